"""Tools: schemas from type hints, registration errors, execution that never crashes the chat."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import threading
from typing import Annotated, Any, Literal

import pydantic
import pytest

from agents import (
    AssistantAgent,
    ConfigurationError,
    ConversableAgent,
    Message,
    Tool,
    ToolCall,
    UserProxyAgent,
    register_function,
)
from agents.tools import execute_tool_calls
from tests.fakes.openai_server import ScriptedOpenAI, tool_calls


class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


class Place(pydantic.BaseModel):
    city: str
    country: str = "FR"


@dataclasses.dataclass
class Window:
    days: int


def forecast(
    place: Annotated[Place, "Where to look"],
    unit: Annotated[Unit, "Temperature unit"] = Unit.CELSIUS,
    detail: Literal["short", "long"] = "short",
    window: Window | None = None,
) -> str:
    """Weather forecast for a place.

    Longer explanation that is not part of the description.
    """
    days = window.days if window else 1
    return f"{place.city}/{place.country}: 21 {unit.value} for {days} day(s), {detail}"


def test_schema_comes_from_type_hints_annotated_descriptions_and_defaults() -> None:
    tool = Tool.from_function(forecast)
    schema = tool.schema()
    assert schema["type"] == "function"
    function = schema["function"]
    assert function["name"] == "forecast"
    assert function["description"] == "Weather forecast for a place."
    params = function["parameters"]
    assert params["required"] == ["place"]
    props = params["properties"]
    assert props["place"]["description"] == "Where to look"
    assert props["unit"]["description"] == "Temperature unit"
    assert props["unit"]["default"] == "celsius"
    assert props["detail"] == {"default": "short", "enum": ["short", "long"], "type": "string"}
    assert set(params["$defs"]) >= {"Place", "Unit", "Window"}
    assert params["$defs"]["Unit"]["enum"] == ["celsius", "fahrenheit"]
    assert "title" not in props["place"]


async def test_arguments_are_validated_into_models_enums_and_dataclasses() -> None:
    tool = Tool.from_function(forecast)
    out = await tool.call('{"place": {"city": "Lyon"}, "unit": "fahrenheit", "window": {"days": 3}}')
    assert out == "Lyon/FR: 21 fahrenheit for 3 day(s), short"


async def test_wrong_arguments_come_back_as_error_text() -> None:
    tool = Tool.from_function(forecast)
    assert (await tool.call("{not json")).startswith("Error: the arguments of forecast are not valid JSON")
    assert (await tool.call("[1, 2]")) == "Error: the arguments of forecast must be a JSON object, got list."
    invalid = await tool.call('{"place": {"city": "Lyon"}, "detail": "medium"}')
    assert invalid.startswith("Error: invalid arguments for forecast: detail:")
    missing = await tool.call("{}")
    assert "place: Field required" in missing


async def test_an_exception_in_a_tool_comes_back_as_error_text() -> None:
    def divide(a: int, b: int) -> float:
        """Divide."""
        return a / b

    assert await Tool.from_function(divide).call('{"a": 1, "b": 0}') == (
        "Error: divide raised ZeroDivisionError: division by zero"
    )


async def test_results_are_serialised_for_the_model() -> None:
    def model_result() -> Place:
        """M."""
        return Place(city="Oslo", country="NO")

    async def mapping_result() -> dict[str, Any]:
        """D."""
        return {"n": 1, "items": [1, 2]}

    assert await Tool.from_function(model_result).call("") == '{"city":"Oslo","country":"NO"}'
    assert await Tool.from_function(mapping_result).call("{}") == '{"n":1,"items":[1,2]}'


def untyped(x):  # type: ignore[no-untyped-def]
    """No hints."""
    return x


def star(*values: int) -> int:
    """Star args."""
    return sum(values)


class Opaque:
    pass


def opaque(thing: Opaque) -> str:
    """Takes something JSON cannot describe."""
    return "x"


@pytest.mark.parametrize(
    ("func", "fragment"),
    [
        (untyped, "parameter 'x' has no type hint"),
        (star, "parameter 'values' is *args/**kwargs"),
        (opaque, "parameter 'thing' has a type that cannot be described"),
    ],
)
def test_a_bad_signature_fails_at_registration_naming_function_and_parameter(func: Any, fragment: str) -> None:
    caller = AssistantAgent("caller", llm_config={"config_list": [{"model": "m", "api_key": "k"}]})
    with pytest.raises(ConfigurationError) as caught:
        caller.register_for_llm(description="d")(func)
    assert fragment in str(caught.value)
    assert func.__name__ in str(caught.value)


def test_a_tool_needs_a_description_and_a_valid_name() -> None:
    def nodoc(x: int) -> int:
        return x

    with pytest.raises(ConfigurationError, match="has no description"):
        Tool.from_function(nodoc)
    with pytest.raises(ConfigurationError, match="not accepted by the model API"):
        Tool.from_function(forecast, name="get weather")


def test_register_for_llm_needs_an_agent_with_a_model() -> None:
    proxy = UserProxyAgent("proxy", code_execution_config=False)
    with pytest.raises(ConfigurationError, match="llm_config=False"):
        proxy.register_for_llm(description="d")(forecast)


async def test_unknown_tool_is_answered_with_an_error_listing_the_known_ones() -> None:
    tools = {"forecast": Tool.from_function(forecast)}
    [response] = await execute_tool_calls((ToolCall("c9", "weather", "{}"),), tools)
    assert response.tool_call_id == "c9"
    assert response.content == "Error: there is no tool named 'weather' (tools here: forecast)."


async def test_parallel_async_tool_calls_run_concurrently() -> None:
    first_started = asyncio.Event()
    second_started = asyncio.Event()

    async def first() -> str:
        """First."""
        first_started.set()
        await asyncio.wait_for(second_started.wait(), 5)  # only finishes if the other runs meanwhile
        return "first done"

    async def second() -> str:
        """Second."""
        second_started.set()
        await asyncio.wait_for(first_started.wait(), 5)
        return "second done"

    tools = {"first": Tool.from_function(first), "second": Tool.from_function(second)}
    responses = await execute_tool_calls((ToolCall("a", "first", "{}"), ToolCall("b", "second", "{}")), tools)
    assert [r.content for r in responses] == ["first done", "second done"]


async def test_parallel_sync_tool_calls_run_in_threads_concurrently() -> None:
    barrier = threading.Barrier(2, timeout=5)

    def meet(who: str) -> str:
        """Both calls must be inside at once for the barrier to open."""
        barrier.wait()
        return f"{who} met"

    tools = {"meet": Tool.from_function(meet)}
    calls = (ToolCall("a", "meet", '{"who": "a"}'), ToolCall("b", "meet", '{"who": "b"}'))
    assert [r.content for r in await execute_tool_calls(calls, tools)] == ["a met", "b met"]


async def test_tool_round_trip_through_the_model(openai_server: ScriptedOpenAI) -> None:
    openai_server.script(
        tool_calls(
            ("forecast", {"place": {"city": "Paris"}}), ("forecast", {"place": {"city": "Rome", "country": "IT"}})
        ),
        "Paris and Rome are both 21 degrees. TERMINATE",
    )
    assistant = AssistantAgent("assistant", llm_config=openai_server.llm_config())
    user = UserProxyAgent(
        "user",
        human_input_mode="NEVER",
        code_execution_config=False,
        is_termination_msg=lambda m: (m["content"] or "").endswith("TERMINATE"),
    )
    register_function(forecast, caller=assistant, executor=user, description="Weather forecast for a place.")

    result = await user.a_initiate_chat(assistant, message="Weather in Paris and Rome?", silent=True)

    assert result.summary == "Paris and Rome are both 21 degrees."
    first, second = openai_server.bodies()
    assert [t["function"]["name"] for t in first["tools"]] == ["forecast"]
    sent = second["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool", "tool"]
    ids = [c["id"] for c in sent[2]["tool_calls"]]
    assert [(m["tool_call_id"], m["content"]) for m in sent[3:]] == [
        (ids[0], "Paris/FR: 21 celsius for 1 day(s), short"),
        (ids[1], "Rome/IT: 21 celsius for 1 day(s), short"),
    ]


def test_function_map_executes_plain_functions_without_hints() -> None:
    def shout(text):  # type: ignore[no-untyped-def]
        return text.upper()

    executor = ConversableAgent("executor", llm_config=False, function_map={"shout": shout})
    asker = ConversableAgent("asker", llm_config=False)
    call = Message.from_dict(
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "1", "type": "function", "function": {"name": "shout", "arguments": '{"text": "hi"}'}}
            ],
        }
    )
    reply = executor.generate_reply([call], asker)
    assert isinstance(reply, dict)  # AutoGen's format
    assert reply["tool_responses"][0]["content"] == "HI"
    executor.register_function({"shout": None})
    assert executor.function_map == {}


def test_register_for_llm_replaces_a_tool_of_the_same_name() -> None:
    caller = AssistantAgent("caller", llm_config={"config_list": [{"model": "m", "api_key": "k"}]})
    caller.register_for_llm(description="first")(forecast)
    caller.register_for_llm(description="second")(forecast)
    assert caller.llm_config
    assert [t["function"]["description"] for t in caller.llm_config["tools"]] == ["second"]
    caller.update_tool_signature("forecast", is_remove=True)
    assert "tools" not in caller.llm_config
