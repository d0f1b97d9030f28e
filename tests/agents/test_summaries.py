"""Summaries: a two-agent chat and a group chat summarize by one code path, and so agree."""

from __future__ import annotations

import logging

import pytest

from agents import ConversableAgent, GroupChat, GroupChatManager
from tests.fakes.agents import agent, counting, reply_with
from tests.fakes.openai_server import ScriptedOpenAI, error


def two_agent_summary(openai_server: ScriptedOpenAI) -> str:
    user = counting("user")
    assistant = agent("assistant", llm_config=openai_server.llm_config())
    assistant.register_reply([ConversableAgent, None], reply_with("noted"))  # the chat asks no model
    result = user.initiate_chat(
        assistant, message="plan the trip", max_turns=2, summary_method="reflection_with_llm", silent=True
    )
    return result.summary


def group_chat_summary(openai_server: ScriptedOpenAI) -> str:
    user, a, b = counting("user"), counting("a"), counting("b")
    chat = GroupChat([user, a, b], max_round=4, speaker_selection_method="round_robin")
    manager = GroupChatManager(chat, llm_config=openai_server.llm_config())
    result = user.initiate_chat(manager, message="plan the trip", summary_method="reflection_with_llm", silent=True)
    assert len(chat.messages) == 4  # the chat itself ran to its end
    return result.summary


@pytest.mark.parametrize("summarize", [two_agent_summary, group_chat_summary], ids=["two-agent", "group"])
def test_a_refused_summary_request_gives_an_empty_summary_and_a_warning(
    openai_server: ScriptedOpenAI, summarize: object, caplog: pytest.LogCaptureFixture
) -> None:
    openai_server.script(error(400, "context too long"))
    with caplog.at_level(logging.WARNING, logger="agents.chat"):
        summary = summarize(openai_server)  # type: ignore[operator]
    assert summary == ""
    assert "refused the summary request" in caplog.text
    assert len(openai_server.requests) == 1  # the summary request, not retried


@pytest.mark.parametrize("summarize", [two_agent_summary, group_chat_summary], ids=["two-agent", "group"])
def test_a_summary_that_fails_otherwise_raises_in_both(openai_server: ScriptedOpenAI, summarize: object) -> None:
    openai_server.script(error(500))
    with pytest.raises(Exception, match="500"):
        summarize(openai_server)  # type: ignore[operator]
