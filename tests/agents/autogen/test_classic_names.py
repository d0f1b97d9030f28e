"""Transforms, message context, runtime logging and group-chat names as AutoGen 0.2 users use them."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

import agents as autogen
from agents import (
    AgentNameConflict,
    AssistantAgent,
    ConfigurationError,
    ConversableAgent,
    GroupChat,
    LLMClient,
    MessageHistoryLimiter,
    MessageTokenLimiter,
    NoEligibleSpeaker,
    TransformMessages,
    UndefinedNextAgent,
    runtime_logging,
)
from agents.agentchat.contrib.capabilities import transform_messages, transforms
from agents.llm.context import instantiate
from agents.speaker_choice import manual_select_speaker, random_select_speaker
from tests.fakes.agents import agent
from tests.fakes.openai_server import ScriptedOpenAI


@pytest.fixture(autouse=True)
def _logging_stops() -> Iterator[None]:
    yield
    runtime_logging.stop()  # a failed test must not leave logging on for the next ones


def test_autogens_module_paths_for_the_capability_work() -> None:
    assert transform_messages.TransformMessages is TransformMessages
    assert transforms.MessageHistoryLimiter is MessageHistoryLimiter
    assert transforms.MessageTokenLimiter is MessageTokenLimiter


def test_message_history_limiter_keeps_the_newest_and_optionally_the_first() -> None:
    messages = [{"role": "user", "content": str(i)} for i in range(6)]
    assert MessageHistoryLimiter(max_messages=2).apply_transform(messages) == messages[-2:]
    kept = MessageHistoryLimiter(max_messages=3, keep_first_message=True).apply_transform(messages)
    assert kept == [messages[0], *messages[-2:]]
    orphan = [{"role": "user", "content": "q"}, {"role": "tool", "content": "r", "tool_call_id": "c"}, messages[5]]
    assert MessageHistoryLimiter(max_messages=2).apply_transform(orphan) == [messages[5]]
    assert MessageHistoryLimiter(max_messages=2).get_logs(messages, messages[-2:]) == (
        "Removed 4 messages. Number of messages reduced from 6 to 2.",
        True,
    )
    with pytest.raises(ValueError, match="max_messages"):
        MessageHistoryLimiter(max_messages=0)


def test_message_token_limiter_cuts_messages_and_keeps_the_newest_within_budget() -> None:
    messages = [{"role": "user", "content": "a" * 400}, {"role": "assistant", "content": "b" * 40, "name": "x"}]
    cut = MessageTokenLimiter(max_tokens_per_message=5).apply_transform(messages)
    assert [m["content"] for m in cut] == ["a" * 20, "b" * 20]
    assert MessageTokenLimiter(max_tokens=50).apply_transform(messages) == [messages[1]]
    assert MessageTokenLimiter(max_tokens=1, min_tokens=1000).apply_transform(messages) == messages
    spared = MessageTokenLimiter(max_tokens_per_message=1, filter_dict={"name": ["x"]}).apply_transform(messages)
    assert [m["content"] for m in spared] == ["aaaa", "b" * 40]
    assert messages[0]["content"] == "a" * 400  # the input is not changed


async def test_transform_messages_shortens_what_the_agent_sends_to_its_model(
    openai_server: ScriptedOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    openai_server.script("ok")
    assistant = AssistantAgent("assistant", system_message="be brief", llm_config=openai_server.llm_config())
    TransformMessages(transforms=[MessageHistoryLimiter(max_messages=2)]).add_to_agent(assistant)
    peer = agent("peer")
    history = [{"role": "user", "content": f"m{i}", "name": "peer"} for i in range(5)]
    await assistant.a_generate_reply(messages=history, sender=peer)
    sent = openai_server.requests[0].body["messages"]
    assert [m["content"] for m in sent] == ["be brief", "m3", "m4"]
    assert "Removed 3 messages" in capsys.readouterr().out


async def test_message_context_fills_templates_when_allowed(openai_server: ScriptedOpenAI) -> None:
    openai_server.script("2", "3")
    allowed = LLMClient(openai_server.llm_config(allow_format_str_template=True))
    messages = [{"role": "user", "content": "Solve {problem}"}]
    await allowed.create(messages, context={"problem": "1 + 1"})
    assert openai_server.requests[0].body["messages"][0]["content"] == "Solve 1 + 1"
    assert "allow_format_str_template" not in openai_server.requests[0].body
    plain = LLMClient(openai_server.llm_config())
    await plain.create(messages, context={"problem": "1 + 2"})
    assert openai_server.requests[1].body["messages"][0]["content"] == "Solve {problem}"
    assert instantiate(lambda ctx: f"Solve {ctx['problem']}", {"problem": "x"}) == "Solve x"
    with pytest.raises(ConfigurationError, match="names 'missing'"):
        instantiate("Solve {missing}", {"problem": "x"}, allow_format_str_template=True)


def test_a_message_context_reaches_the_receivers_model_call_as_in_autogen(openai_server: ScriptedOpenAI) -> None:
    openai_server.script("2")
    user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
    assistant = AssistantAgent("assistant", llm_config=openai_server.llm_config(allow_format_str_template=True))
    message = {"content": "Solve {problem}", "context": {"problem": "1 + 1"}}
    user.initiate_chat(assistant, message=message, max_turns=1, silent=True)
    sent = openai_server.requests[0].body["messages"]
    assert sent[-1]["content"] == "Solve 1 + 1"
    assert all("context" not in m for m in sent)  # never sent to the model as such
    assert assistant.chat_messages[user][0]["context"] == {"problem": "1 + 1"}


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


def test_random_and_manual_speaker_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, c = agent("a"), agent("b"), agent("c")
    groupchat = GroupChat(agents=[a, b, c], messages=[])
    assert random_select_speaker(groupchat) in (a, b, c)
    assert random_select_speaker(groupchat, [b]) is b
    monkeypatch.setattr("sys.stdin", io.StringIO("2\n"))
    assert manual_select_speaker(groupchat) is b
    monkeypatch.setattr("sys.stdin", io.StringIO("nobody\nc\n"))
    assert manual_select_speaker(groupchat) is c
    monkeypatch.setattr("sys.stdin", io.StringIO("q\n"))
    assert manual_select_speaker(groupchat) is None
    monkeypatch.setattr("sys.stdin", io.StringIO("9\n0\n"))
    assert manual_select_speaker(groupchat, [a, b]) is None


def test_autogens_group_chat_exceptions_exist_with_their_messages() -> None:
    assert str(AgentNameConflict()) == "Found multiple agents with the same name."
    assert str(UndefinedNextAgent()) == "The provided agents list does not overlap with agents in the group."
    assert issubclass(AgentNameConflict, ConfigurationError)
    assert issubclass(UndefinedNextAgent, ConfigurationError)
    assert issubclass(NoEligibleSpeaker, autogen.AgentError)
    with pytest.raises(NoEligibleSpeaker):
        GroupChat(agents=[agent("a"), agent("b")], messages=[]).next_agent(agent("a"), [])
    from agents import exception_utils

    assert exception_utils.NoEligibleSpeaker is NoEligibleSpeaker
    assert exception_utils.SenderRequired is autogen.SenderRequiredError
