"""HistoryLimiter: long threads stay inside the model's context, and stay valid."""

from __future__ import annotations

import logging

import pytest

from agents import AssistantAgent, ConfigurationError, GroupChat, GroupChatManager, HistoryLimiter, Message
from tests.fakes.agents import counting
from tests.fakes.openai_server import ScriptedOpenAI


def user(text: str) -> Message:
    return Message(role="user", content=text, name="u")


def call(call_id: str) -> Message:
    return Message.from_dict(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": call_id, "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        }
    )


def result(call_id: str) -> Message:
    return Message.from_dict(
        {"role": "tool", "content": "r", "tool_responses": [{"tool_call_id": call_id, "role": "tool", "content": "r"}]}
    )


def test_keeps_the_newest_messages_and_the_system_message(caplog: pytest.LogCaptureFixture) -> None:
    system = Message(role="system", content="be brief")
    history = [system, *(user(str(i)) for i in range(10))]
    with caplog.at_level(logging.INFO, logger="agents.history"):
        kept = HistoryLimiter(max_messages=3).apply(history)
    assert kept == [system, user("7"), user("8"), user("9")]
    assert "dropped the 7 oldest of 11 messages" in caplog.text


def test_a_tool_call_and_its_results_stay_together() -> None:
    history = [user("a"), call("c1"), result("c1"), user("b")]
    # Three messages hold the unit [call, result] and "b".
    assert HistoryLimiter(max_messages=3).apply(history) == [call("c1"), result("c1"), user("b")]
    # Two messages cannot hold the unit plus "b": the whole unit goes, never half of it.
    assert HistoryLimiter(max_messages=2).apply(history) == [user("b")]


def test_a_result_whose_call_was_dropped_goes_too() -> None:
    history = [call("c1"), result("c1"), result("orphan"), user("b")]
    kept = HistoryLimiter(max_messages=2).apply(history)
    assert kept == [user("b")]


def test_a_token_budget_counts_the_system_message() -> None:
    system = Message(role="system", content="s")
    history = [system, user("one"), user("two"), user("three")]
    limiter = HistoryLimiter(max_tokens=30, token_counter=lambda m: 10)
    assert limiter.apply(history) == [system, user("two"), user("three")]


def test_the_newest_unit_is_kept_even_when_it_alone_is_over_budget() -> None:
    assert HistoryLimiter(max_tokens=1).apply([user("a"), user("b" * 400)]) == [user("b" * 400)]


def test_limits_must_be_given() -> None:
    with pytest.raises(ConfigurationError, match="needs max_messages, max_tokens or both"):
        HistoryLimiter()


async def test_an_agent_with_a_limiter_sends_only_the_newest_messages(openai_server: ScriptedOpenAI) -> None:
    openai_server.script("ok")
    bot = AssistantAgent("bot", system_message="sys", llm_config=openai_server.llm_config())
    HistoryLimiter(max_messages=2).add_to_agent(bot)
    await bot.a_generate_reply([user(str(i)) for i in range(6)])
    sent = openai_server.requests[0].body["messages"]
    assert [m["content"] for m in sent] == ["sys", "4", "5"]


async def test_speaker_selection_prompts_can_be_limited(openai_server: ScriptedOpenAI) -> None:
    openai_server.script("b")
    a, b = counting("a"), counting("b")
    chat = GroupChat([a, b], max_round=2, select_speaker_transform_messages=HistoryLimiter(max_messages=1))
    chat.messages.extend(user(f"old {i}") for i in range(5))
    await counting("user").a_initiate_chat(
        GroupChatManager(chat, llm_config=openai_server.llm_config()), message="new", silent=True
    )
    sent = openai_server.requests[0].body["messages"]
    assert [m["content"] for m in sent[1:-1]] == ["new"]
