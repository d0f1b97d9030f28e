"""Code written for AutoGen 0.2 / AG2 classic runs unchanged: dicts, lambdas, subclassing Agent.

Each test is spelt the way an AutoGen user writes it; none of them imports a threadcrew-only name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import pytest

from agents import (
    Agent,
    AssistantAgent,
    ConfigurationError,
    ConversableAgent,
    GroupChat,
    GroupChatManager,
    UserProxyAgent,
)


def proxy(name: str, **kwargs: Any) -> UserProxyAgent:
    kwargs.setdefault("human_input_mode", "NEVER")
    kwargs.setdefault("code_execution_config", False)
    return UserProxyAgent(name, **kwargs)


def scripted(name: str, *answers: str, **kwargs: Any) -> ConversableAgent:
    """An agent answering from a list, the way AutoGen's tests register a reply function."""
    agent = ConversableAgent(name, llm_config=False, human_input_mode="NEVER", **kwargs)
    remaining = list(answers)

    def answer(recipient: ConversableAgent, messages: Any = None, sender: Any = None, config: Any = None) -> Any:
        return (True, remaining.pop(0)) if remaining else (True, "nothing more")

    agent.register_reply([Agent, None], answer)
    return agent


# -- 1. what the classic API hands to user code is a plain dict --------------------------------------


def test_is_termination_msg_gets_a_dict_and_ends_the_chat() -> None:
    seen: list[Any] = []

    def done(msg: Any) -> bool:
        seen.append(msg)
        return isinstance(msg, dict) and msg.get("content") == "DONE"

    user = proxy("user", is_termination_msg=done, default_auto_reply="go on")
    worker = scripted("worker", "working", "DONE", "never said")
    result = user.initiate_chat(worker, message="start", silent=True)
    assert [m["content"] for m in result.chat_history] == ["start", "working", "go on", "DONE"]
    assert seen
    assert all(type(m) is dict for m in seen)


def test_chat_messages_last_message_and_chat_history_are_autogen_dicts() -> None:
    alice = proxy("alice", default_auto_reply="thanks")
    bob = scripted("bob", "hello alice")
    result = alice.initiate_chat(bob, message="hi bob", max_turns=1, silent=True)

    assert alice.chat_messages[bob][0] == {"content": "hi bob", "role": "assistant", "name": "alice"}
    assert bob.chat_messages[alice] == [
        {"content": "hi bob", "role": "user", "name": "alice"},
        {"content": "hello alice", "role": "assistant", "name": "bob"},
    ]
    assert isinstance(alice.chat_messages[bob], list)
    assert json.loads(json.dumps(alice.chat_messages[bob])) == alice.chat_messages[bob]
    assert alice.last_message(bob) == {"content": "hello alice", "role": "user", "name": "bob"}
    assert bob.last_message() == {"content": "hello alice", "role": "assistant", "name": "bob"}
    assert result.chat_history == alice.chat_messages[bob]
    assert all(type(m) is dict for m in result.chat_history)


def test_changes_to_chat_messages_are_kept() -> None:
    alice, bob = proxy("alice"), proxy("bob")
    alice.chat_messages[bob].append({"content": "noted earlier", "role": "user", "name": "bob"})
    assert alice.last_message(bob) == {"content": "noted earlier", "role": "user", "name": "bob"}
    alice.chat_messages[bob].clear()
    assert alice.chat_messages[bob] == []


def test_reply_functions_and_hooks_get_dicts() -> None:
    seen: dict[str, Any] = {}

    def reply(recipient: ConversableAgent, messages: Any = None, sender: Any = None, config: Any = None) -> Any:
        seen["reply"] = messages
        return True, f"you said {messages[-1]['content']}"

    def before_reply(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen["hook"] = messages
        return [*messages[:-1], {**messages[-1], "content": messages[-1]["content"].upper()}]

    def before_send(sender: Any, message: Any, recipient: Any, silent: Any) -> Any:
        seen.setdefault("sent", []).append(message)
        return message

    echo = ConversableAgent("echo", llm_config=False, human_input_mode="NEVER")
    echo.register_reply([Agent, None], reply)
    echo.register_hook("process_all_messages_before_reply", before_reply)
    echo.register_hook("process_message_before_send", before_send)
    result = proxy("user").initiate_chat(echo, message="hi", max_turns=1, silent=True)

    assert result.chat_history[-1]["content"] == "you said HI"
    assert seen["hook"] == [{"content": "hi", "role": "user", "name": "user"}]
    assert seen["reply"] == [{"content": "HI", "role": "user", "name": "user"}]
    assert seen["sent"] == ["you said HI"]


def test_groupchat_messages_compare_equal_to_the_dicts_a_user_appended() -> None:
    a, b = scripted("a", "a speaks"), scripted("b", "b speaks")
    given = [{"content": "earlier", "role": "user", "name": "a"}]
    chat = GroupChat(agents=[a, b], messages=given, max_round=3, speaker_selection_method="round_robin")
    assert chat.messages == given
    chat.messages.append({"content": "added by hand", "role": "user", "name": "b"})
    assert chat.messages == [*given, {"content": "added by hand", "role": "user", "name": "b"}]
    assert isinstance(chat.messages[-1], dict)


# -- 2. the built-in reply functions take dict messages -----------------------------------------------


def test_generate_tool_calls_reply_on_dict_messages() -> None:
    def add(a: Annotated[int, "first"], b: Annotated[int, "second"]) -> int:
        return a + b

    executor = proxy("executor", function_map={"add": add})
    call = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'}}
        ],
    }
    final, reply = executor.generate_tool_calls_reply(messages=[call])
    assert final is True
    assert reply["role"] == "tool"
    assert reply["tool_responses"] == [{"tool_call_id": "call_1", "role": "tool", "content": "3"}]


def test_generate_code_execution_reply_on_dict_messages(tmp_path: Path) -> None:
    runner = proxy("runner", code_execution_config={"use_docker": False, "work_dir": str(tmp_path)})
    final, reply = runner.generate_code_execution_reply(
        messages=[{"role": "user", "content": "```python\nprint(6 * 7)\n```"}]
    )
    assert final is True
    assert reply.startswith("exitcode: 0 (execution succeeded)")
    assert "42" in reply


# -- 3. a summary callable's result becomes text -------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        (lambda sender, recipient, summary_args: recipient.last_message(sender), "the answer is 4"),
        (lambda sender, recipient, summary_args: None, ""),
        (lambda sender, recipient, summary_args: "plain text", "plain text"),
    ],
    ids=["a message dict", "None", "a string"],
)
def test_summary_callable_result_is_text(method: Any, expected: str) -> None:
    user = proxy("user")
    result = user.initiate_chat(
        scripted("math", "the answer is 4"), message="2+2?", max_turns=1, summary_method=method, silent=True
    )
    assert result.summary == expected


# -- 4. stacked register_for_llm ------------------------------------------------------------------------


def test_stacked_register_for_llm_takes_what_the_outer_gives_and_inherits_the_rest() -> None:
    llm_config = {"config_list": [{"model": "gpt-4o-mini", "api_key": "sk-test"}]}
    agent1, agent2, agent3, agent4 = (AssistantAgent(f"agent{i}", llm_config=llm_config) for i in range(1, 5))
    runner = proxy("runner")

    @runner.register_for_execution()
    @agent4.register_for_llm(name="py", description="Runs a Python cell.")
    @agent3.register_for_llm()
    @agent2.register_for_llm(name="python")
    @agent1.register_for_llm(description="run cell in ipython and return the execution result.")
    def exec_python(cell: Annotated[str, "Valid Python cell to execute."]) -> str:
        return cell

    def offered(agent: ConversableAgent) -> tuple[str, str]:
        (tool,) = agent.llm_config["tools"]
        return tool["function"]["name"], tool["function"]["description"]

    assert offered(agent1) == ("exec_python", "run cell in ipython and return the execution result.")
    assert offered(agent2) == ("python", "run cell in ipython and return the execution result.")
    assert offered(agent3) == ("python", "run cell in ipython and return the execution result.")
    assert offered(agent4) == ("py", "Runs a Python cell.")
    assert set(runner.function_map) == {"py"}


# -- 5. a manager without a model, when nothing needs one --------------------------------------------------


def test_manager_without_a_model_runs_auto_selection_that_never_needs_one() -> None:
    user = scripted("user", "first", "second")
    assistant = scripted("assistant", "reply one", "reply two")
    chat = GroupChat(agents=[user, assistant], messages=[], max_round=4, allow_repeat_speaker=False)
    manager = GroupChatManager(groupchat=chat, llm_config=False)  # speaker_selection_method is "auto"

    user.initiate_chat(manager, message="start", silent=True)

    assert [m["name"] for m in chat.messages] == ["user", "assistant", "user", "assistant"]


# -- 6. a manager sending its own introduction --------------------------------------------------------------


def test_manager_initiating_a_chat_with_itself_ends() -> None:
    a, b = scripted("a", "a1", "a2"), scripted("b", "b1", "b2")
    chat = GroupChat(agents=[a, b], messages=[], max_round=3, speaker_selection_method="round_robin")
    manager = GroupChatManager(groupchat=chat, llm_config=False)

    result = manager.initiate_chat(manager, message="Welcome, team: a first, then b.", silent=True)

    assert [(m["name"], m["content"]) for m in chat.messages] == [
        ("chat_manager", "Welcome, team: a first, then b."),
        ("a", "a1"),
        ("b", "b1"),
    ]
    assert result.summary == "Welcome, team: a first, then b."  # AutoGen's: the last message to itself


# -- 7. a user-defined Agent as a chat peer -------------------------------------------------------------------


class EchoAgent(Agent):
    """An agent written against the Agent protocol only, as AutoGen users write one."""

    def __init__(self, name: str, rounds: int = 2) -> None:
        self._name = name
        self.rounds = rounds
        self.received: list[Any] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str:
        return "repeats what it hears"

    async def a_send(
        self, message: Any, recipient: Agent, request_reply: bool | None = None, silent: Any = False
    ) -> None:
        await recipient.a_receive(message, self, request_reply, silent)

    async def a_receive(
        self, message: Any, sender: Agent, request_reply: bool | None = None, silent: Any = False
    ) -> None:
        self.received.append(message)
        if request_reply is False:
            return
        reply = await self.a_generate_reply([message], sender)
        if reply is not None:
            await self.a_send(reply, sender, request_reply=True, silent=silent)

    async def a_generate_reply(self, messages: Any = None, sender: Any = None, **kwargs: Any) -> Any:
        if len(self.received) > self.rounds:
            return None
        last = messages[-1]
        return "echo: " + (last if isinstance(last, str) else last["content"])


def test_a_user_defined_agent_is_a_chat_peer() -> None:
    echo = EchoAgent("echo")
    user = proxy("user", default_auto_reply="again", max_consecutive_auto_reply=5)

    result = user.initiate_chat(echo, message="hello", silent=True)

    assert [m["content"] for m in result.chat_history] == [
        "hello",
        "echo: hello",
        "again",
        "echo: again",
        "again",
    ]
    assert echo.received == ["hello", "again", "again"]
    assert all(isinstance(m, str) for m in echo.received)  # what AutoGen sends: str or dict
    assert result.summary == "again"


def test_a_user_defined_agent_missing_a_method_gets_a_clear_error() -> None:
    class HalfAgent(Agent):
        @property
        def name(self) -> str:
            return "half"

        @property
        def description(self) -> str:
            return ""

        async def a_send(self, message: Any, recipient: Agent, request_reply: Any = None, silent: Any = False) -> None:
            return None

    with pytest.raises(ConfigurationError, match=r"HalfAgent does not implement a_receive, a_generate_reply"):
        proxy("user").initiate_chat(HalfAgent(), message="hello", silent=True)
    with pytest.raises(ConfigurationError, match="does not implement name, a_send, a_receive"):
        proxy("user").initiate_chat(object(), message="hello", silent=True)  # type: ignore[arg-type]


class Reporter(Agent):
    """A group-chat member written against the Agent protocol only."""

    def __init__(self, name: str) -> None:
        self._name = name
        self.heard: list[Any] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str:
        return "reports how much it heard"

    async def a_send(self, message: Any, recipient: Agent, request_reply: Any = None, silent: Any = False) -> None:
        await recipient.a_receive(message, self, request_reply, silent)

    async def a_receive(self, message: Any, sender: Agent, request_reply: Any = None, silent: Any = False) -> None:
        self.heard.append(message)

    async def a_generate_reply(self, messages: Any = None, sender: Any = None, **kwargs: Any) -> Any:
        return f"heard {len(self.heard)}"


def test_a_user_defined_agent_takes_part_in_a_group_chat() -> None:
    user, reporter = scripted("user", "first"), Reporter("reporter")
    chat = GroupChat(agents=[user, reporter], messages=[], max_round=4, speaker_selection_method="round_robin")
    user.initiate_chat(GroupChatManager(groupchat=chat, llm_config=False), message="start", silent=True)

    assert [(m["name"], m["content"]) for m in chat.messages] == [
        ("user", "start"),
        ("reporter", "heard 1"),
        ("user", "first"),
        ("reporter", "heard 2"),
    ]
    assert [m["content"] for m in reporter.heard] == ["start", "first"]
    assert all(type(m) is dict for m in reporter.heard)
