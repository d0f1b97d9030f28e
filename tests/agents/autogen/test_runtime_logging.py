"""``runtime_logging`` as AutoGen 0.2 users use it: start, chat, stop, read the log back."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pydantic
import pytest

from agents import AssistantAgent, ConfigurationError, ConversableAgent, UserProxyAgent, runtime_logging
from tests.fakes.openai_server import ScriptedOpenAI, tool_calls


@pytest.fixture(autouse=True)
def _logging_stops() -> Iterator[None]:
    yield
    runtime_logging.stop()  # a failed test must not leave logging on for the next ones


class Total(pydantic.BaseModel):
    value: int


def _chat_with_tools(openai_server: ScriptedOpenAI) -> UserProxyAgent:
    """A user asks, the assistant calls two tools at once (one fails), the user's proxy runs them."""
    openai_server.script(tool_calls(("add", {"a": 2, "b": 3}), ("divide", {"a": 1, "b": 0})), "5, and 1/0 fails")
    assistant = AssistantAgent("assistant", llm_config=openai_server.llm_config())
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)

    @user.register_for_execution()
    @assistant.register_for_llm(description="Add two numbers.")
    def add(a: Annotated[int, "first"], b: Annotated[int, "second"]) -> Total:
        return Total(value=a + b)

    @user.register_for_execution()
    @assistant.register_for_llm(name="divide", description="Divide a by b.")
    def quotient(a: int, b: int) -> float:
        return a / b

    user.initiate_chat(assistant, message="2 + 3, and 1 / 0?", max_turns=2, silent=True)
    return user


def _function_uses(logger_type: str, where: Path) -> list[dict[str, Any]]:
    """The logged tool calls, as the SQLite table's columns, whichever logger wrote them."""
    if logger_type == "sqlite":
        with sqlite3.connect(where) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(row) for row in conn.execute("SELECT * FROM function_calls ORDER BY function_name")]
    records = [json.loads(line) for line in where.read_text().splitlines()]
    return sorted((r for r in records if r["type"] == "function_calls"), key=lambda r: r["function_name"])


@pytest.mark.parametrize(("logger_type", "setting"), [("sqlite", "dbname"), ("file", "filename")])
def test_each_tool_call_is_logged_with_its_agent_arguments_and_result(
    openai_server: ScriptedOpenAI, tmp_path: Path, logger_type: str, setting: str
) -> None:
    where = tmp_path / "runtime.log"
    runtime_logging.start(logger_type=logger_type, config={setting: str(where)})  # type: ignore[arg-type]
    user = _chat_with_tools(openai_server)
    runtime_logging.stop()
    uses = _function_uses(logger_type, where)
    assert [(u["source_name"], u["function_name"]) for u in uses] == [("user", "add"), ("user", "quotient")]
    added, divided = uses
    assert json.loads(added["args"]) == {"a": 2, "b": 3}  # as the model sent them
    assert json.loads(added["returns"]) == {"value": 5}  # what the function returned, a pydantic model
    assert json.loads(divided["args"]) == {"a": 1, "b": 0}
    assert "ZeroDivisionError" in json.loads(divided["returns"])  # a tool that raised: its error text
    assert added["source_id"] == id(user)
    assert added["timestamp"]


def test_tool_calls_are_not_logged_while_logging_is_off(openai_server: ScriptedOpenAI, tmp_path: Path) -> None:
    where = tmp_path / "runtime.log"
    runtime_logging.start(logger_type="file", config={"filename": str(where)})
    runtime_logging.stop()
    _chat_with_tools(openai_server)
    assert where.read_text() == ""
    assert len(openai_server.requests) == 2  # the chat did run its tools and answer


def test_runtime_logging_to_sqlite_records_model_calls_without_keys(
    openai_server: ScriptedOpenAI, tmp_path: Path
) -> None:
    openai_server.script("logged answer")
    db = tmp_path / "logs.db"
    session_id = runtime_logging.start(config={"dbname": str(db)})
    assert runtime_logging.logging_enabled()
    user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
    assistant = AssistantAgent("assistant", llm_config=openai_server.llm_config())
    user.initiate_chat(assistant, message="hello", max_turns=1, silent=True)
    runtime_logging.log_event(user, "custom_event", detail=1)
    runtime_logging.stop()
    assert not runtime_logging.logging_enabled()
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT session_id, request, response, is_cached FROM chat_completions").fetchall()
        events = conn.execute("SELECT event_name, source_name, json_state FROM events").fetchall()
        wrappers = conn.execute("SELECT init_args FROM oai_wrappers").fetchall()
        agents = conn.execute("SELECT name, class FROM agents ORDER BY name").fetchall()
    assert len(rows) == 1
    assert rows[0][0] == session_id
    assert json.loads(rows[0][1])["messages"][-1]["content"] == "hello"
    assert json.loads(rows[0][2])["message"]["content"] == "logged answer"
    assert rows[0][3] == 0
    assert [e for e in events if e[0] == "custom_event"] == [("custom_event", "user", '{"detail": 1}')]
    received = [(source, json.loads(state)) for name, source, state in events if name == "received_message"]
    assert received[0][0] == "assistant"  # the agents' own events are logged as in AutoGen
    assert received[0][1]["sender"] == "user"
    assert received[0][1]["message"]["content"] == "hello"
    assert agents == [("assistant", "AssistantAgent"), ("user", "ConversableAgent")]
    assert "sk-test" not in wrappers[0][0]


def test_runtime_logging_to_a_file_writes_json_lines(openai_server: ScriptedOpenAI, tmp_path: Path) -> None:
    openai_server.script("to the file")
    log = tmp_path / "runtime.log"
    session_id = runtime_logging.start(logger_type="file", config={"filename": str(log)})
    assert runtime_logging.get_connection() is None
    user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
    user.initiate_chat(AssistantAgent("a", llm_config=openai_server.llm_config()), message="hi", max_turns=1)
    runtime_logging.stop()
    records = [json.loads(line) for line in log.read_text().splitlines()]
    completions = [r for r in records if r["type"] == "chat_completions"]
    assert len(completions) == 1
    assert completions[0]["session_id"] == session_id
    with pytest.raises(ConfigurationError, match="unknown logger_type"):
        runtime_logging.start(logger_type="cloud")  # type: ignore[arg-type]
