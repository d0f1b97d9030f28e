"""The sync methods are edges over the async ones, made by one helper: same signature, same behaviour."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from agents import ConversableAgent, GroupChat, GroupChatManager

SYNC_METHODS = [
    (ConversableAgent, "send"),
    (ConversableAgent, "receive"),
    (ConversableAgent, "generate_reply"),
    (ConversableAgent, "initiate_chat"),
    (ConversableAgent, "generate_init_message"),
    (ConversableAgent, "check_termination_and_human_reply"),
    (ConversableAgent, "generate_tool_calls_reply"),
    (ConversableAgent, "generate_code_execution_reply"),
    (ConversableAgent, "generate_oai_reply"),
    (GroupChatManager, "run_chat"),
    (GroupChatManager, "resume"),
    (GroupChat, "select_speaker"),
]


@pytest.mark.parametrize(("cls", "name"), SYNC_METHODS, ids=[f"{c.__name__}.{n}" for c, n in SYNC_METHODS])
def test_each_sync_method_is_the_edge_of_its_async_form(cls: type, name: str) -> None:
    sync, async_ = getattr(cls, name), getattr(cls, f"a_{name}")
    assert not inspect.iscoroutinefunction(sync)
    assert inspect.iscoroutinefunction(async_)
    assert inspect.signature(sync).parameters == inspect.signature(async_).parameters
    assert sync.async_name == f"a_{name}"


def test_a_subclass_overriding_the_async_form_changes_the_sync_one() -> None:
    class Shouting(ConversableAgent):
        async def a_generate_reply(self, messages: Any = None, sender: Any = None, **kwargs: Any) -> Any:
            return "LOUD"

    agent = Shouting("shouting", llm_config=False)
    assert agent.generate_reply(messages=[{"role": "user", "content": "hi"}]) == "LOUD"


async def test_a_sync_method_works_inside_a_running_event_loop() -> None:
    agent = ConversableAgent("echo", llm_config=False, default_auto_reply="pong")
    assert agent.generate_reply(messages=[{"role": "user", "content": "ping"}]) == "pong"
