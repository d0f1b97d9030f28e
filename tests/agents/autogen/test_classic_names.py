"""Transforms, message context and group-chat names as AutoGen 0.2 users use them."""

from __future__ import annotations

import io

import pytest

import agents as autogen
from agents import (
    AgentNameConflict,
    AssistantAgent,
    ConfigurationError,
    ConversableAgent,
    GroupChat,
    GroupChatManager,
    LLMClient,
    MessageHistoryLimiter,
    MessageTokenLimiter,
    NoEligibleSpeaker,
    TransformMessages,
    UndefinedNextAgent,
)
from agents.agentchat.contrib.capabilities import transform_messages, transforms
from agents.llm.context import instantiate
from agents.speaker_choice import manual_select_speaker, random_select_speaker
from tests.fakes.agents import agent
from tests.fakes.openai_server import ScriptedOpenAI


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


def test_random_and_manual_speaker_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, c = agent("a"), agent("b"), agent("c")
    groupchat = GroupChat(agents=[a, b, c], messages=[])
    assert groupchat.random_select_speaker() in (a, b, c)  # AutoGen's methods
    assert groupchat.random_select_speaker([b]) is b
    assert random_select_speaker(groupchat, []) is None
    monkeypatch.setattr("sys.stdin", io.StringIO("2\n"))
    assert groupchat.manual_select_speaker() is b
    monkeypatch.setattr("sys.stdin", io.StringIO("nobody\nc\n"))
    assert manual_select_speaker(groupchat) is c
    monkeypatch.setattr("sys.stdin", io.StringIO("q\n"))
    assert groupchat.manual_select_speaker() is None
    monkeypatch.setattr("sys.stdin", io.StringIO("9\n0\n"))
    assert manual_select_speaker(groupchat, [a, b]) is None


def test_autogens_group_chat_exceptions_exist_with_their_messages() -> None:
    assert str(AgentNameConflict()) == "Found multiple agents with the same name."
    assert str(UndefinedNextAgent()) == "The provided agents list does not overlap with agents in the group."
    assert issubclass(AgentNameConflict, ConfigurationError)
    assert issubclass(UndefinedNextAgent, ConfigurationError)
    assert issubclass(NoEligibleSpeaker, autogen.AgentError)
    from agents import exception_utils

    assert exception_utils.NoEligibleSpeaker is NoEligibleSpeaker
    assert exception_utils.SenderRequired is autogen.SenderRequiredError


def test_autogens_group_chat_exceptions_are_raised_where_autogen_raises_them() -> None:
    a, b = agent("a"), agent("b")
    groupchat = GroupChat(agents=[a, b], messages=[])
    with pytest.raises(UndefinedNextAgent, match="'x'"):
        groupchat.next_agent(a, [agent("x")])  # not a member
    with pytest.raises(UndefinedNextAgent, match="no agents were given"):
        groupchat.next_agent(a, [])
    assert groupchat.next_agent(b, [a, b]) is a

    inner = GroupChatManager(GroupChat(agents=[agent("b"), agent("c")], messages=[]), name="team", llm_config=False)
    outer = GroupChat(agents=[a, b, inner], messages=[])
    assert outer.agent_by_name("b", recursive=True) is b
    with pytest.raises(AgentNameConflict):
        outer.agent_by_name("b", recursive=True, raise_on_name_conflict=True)

    nobody = GroupChat(agents=[a, b], messages=[], speaker_selection_method=lambda last, chat: None)
    with pytest.raises(NoEligibleSpeaker):  # a selection function returning None ends the chat
        nobody.select_speaker(a, GroupChatManager(nobody, llm_config=False))
    result = a.initiate_chat(GroupChatManager(nobody, llm_config=False), message="hi", silent=True)
    assert [m["content"] for m in result.chat_history] == ["hi"]
