"""Human input as a durable suspension: stop, serialise, rebuild, deliver, continue."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agents import (
    AssistantAgent,
    ChatRun,
    ChatSuspended,
    ConfigurationError,
    ConversableAgent,
    DeferredInput,
    HumanInputSource,
    ScriptedInput,
    UserProxyAgent,
)
from tests.fakes.openai_server import ScriptedOpenAI, text


@pytest.fixture
def echo_model() -> Any:
    """A model whose answer depends only on what it is asked, so two runs get the same answers."""

    def respond(body: dict[str, Any]) -> Any:
        last = body["messages"][-1]["content"]
        turn = sum(1 for m in body["messages"] if m["role"] == "assistant") + 1
        return text(f"answer {turn} to {last!r}", prompt_tokens=10 * turn, completion_tokens=turn)

    with ScriptedOpenAI(responder=respond) as server:
        yield server


def build_team(server: ScriptedOpenAI, source: HumanInputSource) -> tuple[UserProxyAgent, AssistantAgent]:
    """The team's definition: what a fresh process builds before loading the saved state."""
    assistant = AssistantAgent("assistant", llm_config=server.llm_config())
    user = UserProxyAgent(
        "user",
        human_input_mode="ALWAYS",
        human_input_source=source,
        code_execution_config=False,
        default_auto_reply="go on",
    )
    return user, assistant


ANSWERS = ["make it shorter", "", "exit"]


def round_trip(state: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(state))
    return loaded


async def test_a_chat_stopped_for_a_human_and_rebuilt_from_json_gives_the_uninterrupted_transcript(
    echo_model: ScriptedOpenAI,
) -> None:
    user, assistant = build_team(echo_model, ScriptedInput(ANSWERS))
    reference = await user.a_initiate_chat(assistant, message="Write a haiku.", silent=True)
    reference_requests = echo_model.bodies()
    echo_model.requests.clear()

    user, assistant = build_team(echo_model, DeferredInput())
    run = ChatRun(user, assistant, message="Write a haiku.", silent=True)
    waits = []
    for answer in ANSWERS:
        assert await run.a_run() == "waiting"
        assert run.waiting is not None
        waits.append(run.waiting)
        state = round_trip(run.to_json())
        # A fresh process: new agents from the definition, the state from JSON, then the answer.
        user, assistant = build_team(echo_model, DeferredInput())
        run = ChatRun.from_json(state, [user, assistant])
        run.deliver(answer)
    assert await run.a_run() == "finished"
    result = run.result

    assert result.chat_history == reference.chat_history
    assert result.summary == reference.summary
    assert result.human_input == reference.human_input == ANSWERS
    assert result.cost == reference.cost
    assert echo_model.bodies() == reference_requests  # the model was asked exactly the same things
    assert {w.agent for w in waits} == {"user"}
    assert waits[0].prompt.startswith("Replying as user. Provide feedback to assistant.")


async def test_async_chats_ask_the_human_once_per_turn(echo_model: ScriptedOpenAI) -> None:
    human = ScriptedInput(["one", "two", "exit"])
    user, assistant = build_team(echo_model, human)
    result = await user.a_initiate_chat(assistant, message="hi", silent=True)
    assert len(human.prompts) == 3
    assert len(result.chat_history) == 6


async def test_initiate_chat_with_a_deferred_source_raises_chat_suspended_carrying_the_run(
    echo_model: ScriptedOpenAI,
) -> None:
    user, assistant = build_team(echo_model, DeferredInput())
    with pytest.raises(ChatSuspended) as caught:
        await user.a_initiate_chat(assistant, message="hi", silent=True)
    run = caught.value.run
    assert run.status == "waiting"
    run.deliver("exit")
    result = await run.a_run_to_end()
    assert [m["content"] for m in result.chat_history] == ["hi", "answer 1 to 'hi'"]


async def test_an_answer_reaches_an_agent_inside_a_nested_chat(echo_model: ScriptedOpenAI) -> None:
    inner_human = ConversableAgent(
        "inner_human", llm_config=False, human_input_mode="ALWAYS", human_input_source=DeferredInput()
    )
    lead = ConversableAgent("lead", llm_config=False, human_input_mode="NEVER")
    lead.register_nested_chats([{"recipient": inner_human, "max_turns": 1}], trigger="client")
    client = ConversableAgent("client", llm_config=False, human_input_mode="NEVER")
    run = ChatRun(client, lead, message="ask the human", max_turns=1, silent=True)
    assert await run.a_run() == "waiting"
    assert run.waiting is not None
    assert run.waiting.agent == "inner_human"
    run.deliver("the human's answer")
    assert await run.a_run() == "finished"
    assert run.result.chat_history[-1]["content"] == "the human's answer"


def test_deliver_without_a_wait_and_a_state_missing_an_agent_are_errors(echo_model: ScriptedOpenAI) -> None:
    user, assistant = build_team(echo_model, DeferredInput())
    run = ChatRun(user, assistant, message="hi")
    with pytest.raises(RuntimeError, match="no question to answer"):
        run.deliver("x")
    state = round_trip(run.to_json())
    with pytest.raises(ConfigurationError, match=r"names agents that are not among the agents given: \['assistant'\]"):
        ChatRun.from_json(state, [user])
    with pytest.raises(ConfigurationError, match="not a two agent chat of version 2"):
        ChatRun.from_json({**state, "version": 99}, [user, assistant])


def test_result_before_the_end_is_an_error(echo_model: ScriptedOpenAI) -> None:
    user, assistant = build_team(echo_model, DeferredInput())
    with pytest.raises(RuntimeError, match="not finished"):
        _ = ChatRun(user, assistant, message="hi").result
