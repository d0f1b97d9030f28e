"""GroupChat and GroupChatManager: the mechanics AutoGen's group-chat suite checks."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from agents import (
    AssistantAgent,
    ChatRun,
    ConfigurationError,
    ConversableAgent,
    DeferredInput,
    GroupChat,
    GroupChatManager,
    GroupChatRun,
    Message,
    ScriptedInput,
)
from tests.fakes.agents import agent, counting
from tests.fakes.openai_server import ScriptedOpenAI, text, tool_calls


def team(n: int = 3, **groupchat: Any) -> tuple[list[ConversableAgent], GroupChat, GroupChatManager]:
    members = [counting(f"a{i}") for i in range(n)]
    groupchat.setdefault("speaker_selection_method", "round_robin")
    chat = GroupChat(members, **groupchat)
    return members, chat, GroupChatManager(chat)


def speakers(chat: GroupChat) -> list[str | None]:
    return [m.get("name") for m in chat.messages]


class TestHelpers:
    def test_defaults_match_autogen(self) -> None:
        members, chat, manager = team()
        assert (chat.max_round, chat.admin_name, chat.func_call_filter, chat.max_retries_for_selecting_speaker) == (
            10,
            "Admin",
            True,
            2,
        )
        assert chat.role_for_select_speaker_messages == "system"
        assert chat.send_introductions is False
        assert (manager.name, manager.human_input_mode, manager.system_message) == (
            "chat_manager",
            "NEVER",
            "Group chat manager.",
        )
        assert GroupChat(members).speaker_selection_method == "auto"

    def test_names_lookup_next_agent_append_and_reset(self) -> None:
        members, chat, _ = team()
        assert chat.agent_names == ["a0", "a1", "a2"]
        assert chat.agent_by_name("a1") is members[1]
        assert chat.agent_by_name("nobody") is None
        assert chat.next_agent(members[2]) is members[0]
        assert chat.next_agent(members[0], [members[2]]) is members[2]
        chat.append({"content": "hi", "role": "user"}, members[1])
        assert chat.messages == [Message(role="user", content="hi", name="a1")]
        chat.reset()
        assert chat.messages == []

    def test_duplicate_names_are_refused(self) -> None:
        with pytest.raises(ConfigurationError, match="unique; repeated: x"):
            GroupChat([agent("x"), agent("x")])


class TestSelectionMethods:
    def test_round_robin_takes_turns_and_max_round_counts_every_message(self) -> None:
        _members, chat, manager = team(max_round=5)
        user = counting("user")
        result = user.initiate_chat(manager, message="go", silent=True)
        assert speakers(chat) == ["user", "a0", "a1", "a2", "a0"]
        assert len(chat.messages) == 5
        assert result.chat_history[0]["content"] == "go"

    def test_method_names_are_case_insensitive(self) -> None:
        _members, chat, manager = team(max_round=3, speaker_selection_method="Round_Robin")
        counting("user").initiate_chat(manager, message="go", silent=True)
        assert speakers(chat) == ["user", "a0", "a1"]

    def test_an_unknown_method_lists_the_valid_ones(self) -> None:
        with pytest.raises(ValueError, match="'best_first' is not one of auto, manual, random, round_robin"):
            GroupChat([agent("a"), agent("b")], speaker_selection_method="best_first")

    def test_random_picks_among_the_eligible(self) -> None:
        random.seed(7)
        _members, chat, manager = team(4, max_round=30, speaker_selection_method="random", allow_repeat_speaker=False)
        counting("user").initiate_chat(manager, message="go", silent=True)
        names = speakers(chat)[1:]
        assert set(names) == {"a0", "a1", "a2", "a3"}
        assert all(a != b for a, b in itertools.pairwise(names))  # never the same speaker twice in a row

    def test_a_custom_callable_may_return_an_agent_a_method_or_none(self) -> None:
        members = [counting(f"a{i}") for i in range(3)]
        calls: list[str] = []

        def choose(last: Any, chat: GroupChat) -> Any:
            calls.append(last.name)
            if last.name == "user":
                return members[2]
            if last.name == "a2":
                return "round_robin"
            return None

        chat = GroupChat(members, speaker_selection_method=choose, max_round=10)
        run = GroupChatRun(GroupChatManager(chat), "go", counting("user"), silent=True)
        import asyncio

        asyncio.run(run.a_run())
        assert speakers(chat) == ["user", "a2", "a0"]
        assert calls == ["user", "a2", "a0"]
        assert run.result.stop_reason == "the speaker selection function chose nobody"

    def test_a_callable_returning_a_stranger_is_an_error(self) -> None:
        chat = GroupChat([agent("a"), agent("b")], speaker_selection_method=lambda last, chat: agent("stranger"))
        with pytest.raises(ConfigurationError, match="return an agent of the group chat"):
            counting("user").initiate_chat(GroupChatManager(chat), message="go", silent=True)

    def test_manual_selection_asks_with_a_numbered_list_and_takes_the_answer(self) -> None:
        members = [counting(f"a{i}") for i in range(3)]
        human = ScriptedInput(["3", "nonsense", ""])
        chat = GroupChat(members, speaker_selection_method="manual", max_round=4)
        manager = GroupChatManager(chat, human_input_source=human)
        counting("user").initiate_chat(manager, message="go", silent=True)
        # "3" picks a2; an invalid answer and an empty one fall back to taking turns.
        assert speakers(chat) == ["user", "a2", "a0", "a1"]
        first_prompt = human.prompts[0][1]
        assert "1: a0\n2: a1\n3: a2" in first_prompt

    async def test_manual_selection_waits_with_the_choices_for_buttons(self) -> None:
        members = [counting(f"a{i}") for i in range(3)]
        chat = GroupChat(members, speaker_selection_method="manual", max_round=2)
        run = GroupChatRun(
            GroupChatManager(chat, human_input_source=DeferredInput()), "go", counting("user"), silent=True
        )
        assert await run.a_run() == "waiting"
        assert run.waiting is not None
        assert run.waiting.choices == ("a0", "a1", "a2")
        run.deliver("a1")
        assert await run.a_run() == "finished"
        assert speakers(chat) == ["user", "a1"]


class TestTransitionGraph:
    def test_allowed_transitions_are_followed(self) -> None:
        a, b, c = (counting(n) for n in ("a", "b", "c"))
        chat = GroupChat(
            [a, b, c],
            allowed_or_disallowed_speaker_transitions={a: [c], c: [b], b: [a]},
            speaker_transitions_type="allowed",
            speaker_selection_method="round_robin",
            max_round=7,
        )
        counting("user").initiate_chat(GroupChatManager(chat), message="go", silent=True)
        assert speakers(chat) == ["user", "a", "c", "b", "a", "c", "b"]

    def test_disallowed_transitions_are_inverted(self) -> None:
        a, b, c = (counting(n) for n in ("a", "b", "c"))
        chat = GroupChat(
            [a, b, c],
            allowed_or_disallowed_speaker_transitions={a: [b, a], b: [c, b], c: [a, c]},
            speaker_transitions_type="disallowed",
            speaker_selection_method="round_robin",
            max_round=5,
        )
        counting("user").initiate_chat(GroupChatManager(chat), message="go", silent=True)
        assert speakers(chat) == ["user", "a", "c", "b", "a"]

    def test_a_speaker_with_no_way_on_ends_the_chat(self) -> None:
        a, b = counting("a"), counting("b")
        chat = GroupChat(
            [a, b],
            allowed_or_disallowed_speaker_transitions={a: [b], b: []},
            speaker_transitions_type="allowed",
            speaker_selection_method="round_robin",
        )
        manager = GroupChatManager(chat)
        counting("user").initiate_chat(manager, message="go", silent=True)
        assert speakers(chat) == ["user", "a", "b"]
        assert manager.last_run is not None
        assert manager.last_run.result.stop_reason == "no agent may speak after b (the transition graph has no way on)"

    @pytest.mark.parametrize(
        ("kwargs", "fragment"),
        [
            (
                {"allowed_or_disallowed_speaker_transitions": "STRANGER", "speaker_transitions_type": "allowed"},
                "names agent 'stranger', which is not in the group chat",
            ),
            ({"allowed_or_disallowed_speaker_transitions": "GRAPH"}, "needs speaker_transitions_type"),
            (
                {
                    "allowed_or_disallowed_speaker_transitions": "GRAPH",
                    "speaker_transitions_type": "allowed",
                    "allow_repeat_speaker": False,
                },
                "not both",
            ),
            ({"speaker_transitions_type": "allowed"}, "speaker_transitions_type is set"),
            ({"allow_repeat_speaker": "STRANGER_LIST"}, "allow_repeat_speaker names agent 'stranger'"),
        ],
    )
    def test_a_bad_graph_is_refused_at_construction_naming_the_agent(
        self, kwargs: dict[str, Any], fragment: str
    ) -> None:
        a, b = agent("a"), agent("b")
        stranger = agent("stranger")
        values = {"STRANGER": {a: [stranger]}, "GRAPH": {a: [b]}, "STRANGER_LIST": [stranger]}
        resolved = {k: values.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}
        with pytest.raises(ConfigurationError, match=fragment.replace("(", r"\(")):
            GroupChat([a, b], **resolved)

    def test_allow_repeat_speaker_list_lets_only_those_repeat(self) -> None:
        a, b = counting("a"), counting("b")
        chat = GroupChat([a, b], allow_repeat_speaker=[a])
        assert chat.eligible_agents(a) == [a, b]
        assert chat.eligible_agents(b) == [a]


def test_introductions_reach_every_agent_before_the_first_message() -> None:
    members, chat, manager = team(max_round=2, send_introductions=True)
    counting("user").initiate_chat(manager, message="go", silent=True)
    for member in members:
        first = member.chat_messages[manager][0]
        assert first["content"].startswith("Hello everyone.")
        assert "a0: " in first["content"]
        assert "a2: " in first["content"]
    assert speakers(chat) == ["user", "a0"]  # the introduction is not part of the chat


def test_a_group_chat_manager_can_be_a_member_of_another_group_chat() -> None:
    inner_members = [counting("researcher"), counting("checker")]
    inner = GroupChatManager(
        GroupChat(inner_members, speaker_selection_method="round_robin", max_round=3), name="research_team"
    )
    writer = counting("writer")
    outer_chat = GroupChat([inner, writer], speaker_selection_method="round_robin", max_round=4)
    counting("user").initiate_chat(GroupChatManager(outer_chat, name="lead"), message="write about tides", silent=True)
    assert speakers(outer_chat) == ["user", "research_team", "writer", "research_team"]
    # The inner team worked on the latest message and answered with its last message.
    assert speakers(inner.groupchat)[:3] == ["lead", "researcher", "checker"]
    assert outer_chat.messages[1]["content"] == "checker1"
    assert inner.groupchat.messages[0]["content"] == "write about tides"


def test_messages_to_string_and_back() -> None:
    _, chat, manager = team(max_round=3)
    counting("user").initiate_chat(manager, message="go", silent=True)
    saved = manager.messages_to_string(chat.messages)
    assert [m["name"] for m in manager.messages_from_string(saved)] == ["user", "a0", "a1"]
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        manager.messages_from_string("{nope")


def test_resume_loads_the_transcript_and_the_chat_goes_on(openai_server: ScriptedOpenAI) -> None:
    openai_server.script(text("Final answer: 5. TERMINATE"))
    planner = AssistantAgent("planner", llm_config=openai_server.llm_config())
    runner = ConversableAgent("runner", llm_config=False, human_input_mode="NEVER")

    @runner.register_for_execution()
    def add(a: int, b: int) -> int:
        return a + b

    chat = GroupChat([planner, runner], speaker_selection_method="round_robin", max_round=10)
    manager = GroupChatManager(chat, is_termination_msg=lambda m: "TERMINATE" in m["content"])
    saved = [
        {"role": "user", "name": "runner", "content": "What is 2 + 3?"},
        {
            "role": "assistant",
            "name": "planner",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 2, "b": 3}'}}
            ],
        },
        {
            "role": "tool",
            "name": "runner",
            "content": "5",
            "tool_responses": [{"tool_call_id": "call_1", "role": "tool", "content": "5"}],
        },
        {"role": "user", "name": "runner", "content": "Now answer. TERMINATE"},
    ]
    last_agent, last_message = manager.resume(
        manager.messages_to_string(saved), remove_termination_string="TERMINATE", silent=True
    )
    assert last_agent is runner
    assert last_message["content"] == "Now answer. "
    assert len(chat.messages) == 3
    last_agent.initiate_chat(manager, message=last_message, clear_history=False, silent=True)
    # The planner's model got a valid history: its tool call is followed by its result.
    sent = openai_server.requests[0].body["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool", "user"]
    assert sent[3]["tool_call_id"] == "call_1"
    assert [m["content"] for m in chat.messages[-2:]] == ["Now answer. ", "Final answer: 5. TERMINATE"]
    assert manager.last_run is not None
    assert manager.last_run.result.stop_reason == "termination message from planner"


def test_resume_refuses_strangers_and_empty_transcripts() -> None:
    _, _, manager = team()
    with pytest.raises(ConfigurationError, match="'mallory', who is not in the group chat"):
        manager.resume([{"role": "user", "name": "mallory", "content": "hi"}])
    with pytest.raises(ConfigurationError, match="at least one message"):
        manager.resume([])


def test_tool_calls_go_to_the_agent_that_can_run_them(openai_server: ScriptedOpenAI) -> None:
    openai_server.script(tool_calls(("add", {"a": 1, "b": 2})), "It is 3.")
    planner = AssistantAgent("planner", llm_config=openai_server.llm_config())
    bystander = counting("bystander")
    runner = ConversableAgent("runner", llm_config=False, human_input_mode="NEVER")

    @runner.register_for_execution()
    @planner.register_for_llm(description="Add two numbers.")
    def add(a: int, b: int) -> int:
        return a + b

    chat = GroupChat(
        [planner, bystander, runner],
        speaker_selection_method=lambda last, chat: "round_robin" if last.name != "runner" else planner,
        max_round=4,
    )
    counting("user").initiate_chat(GroupChatManager(chat), message="1 + 2?", silent=True)
    assert speakers(chat) == ["user", "planner", "runner", "planner"]
    assert chat.messages[2]["tool_responses"][0]["content"] == "3"


def test_a_tool_nobody_can_run_is_an_error_naming_it(openai_server: ScriptedOpenAI) -> None:
    openai_server.script(tool_calls(("launch_rocket", {})))
    planner = AssistantAgent("planner", llm_config=openai_server.llm_config())
    chat = GroupChat([planner, counting("a"), counting("b")], speaker_selection_method="round_robin")
    with pytest.raises(ConfigurationError, match="can execute the tool\\(s\\) launch_rocket"):
        counting("user").initiate_chat(GroupChatManager(chat), message="go", silent=True)


def test_auto_selection_needs_a_model_when_it_must_select() -> None:
    manager = GroupChatManager(GroupChat([agent("a"), agent("b")]))  # accepted, as in AutoGen
    with pytest.raises(ConfigurationError, match="'auto' needs a model"):
        counting("user").initiate_chat(manager, message="go", silent=True)


def test_state_of_a_manager_inside_a_two_agent_chat_round_trips() -> None:
    _members, _chat, manager = team(max_round=3)
    user = counting("user")
    run = ChatRun(user, manager, message="go", silent=True)
    import asyncio

    asyncio.run(run.a_run())
    state = run.to_json()
    assert set(state["agents"]) == {"user", "chat_manager", "a0", "a1", "a2"}
    assert [m["name"] for m in state["agents"]["chat_manager"]["groupchat_messages"]] == ["user", "a0", "a1"]
