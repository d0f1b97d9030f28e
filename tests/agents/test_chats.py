"""initiate_chat, summaries, carryover, sequential / concurrent / nested chats, the sync edge."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agents import (
    AssistantAgent,
    ConfigurationError,
    ConversableAgent,
    InvalidCarryOverTypeError,
    ScriptedInput,
    a_initiate_chats,
    initiate_chats,
)
from agents.chat import apply_carryover
from tests.fakes.agents import agent, counting
from tests.fakes.openai_server import ScriptedOpenAI, text


@pytest.mark.parametrize(("max_turns", "expected"), [(0, 0), (1, 2), (3, 6)])
def test_max_turns_bounds_the_number_of_messages(max_turns: int, expected: int) -> None:
    a, b = counting("a"), counting("b")
    result = a.initiate_chat(b, message="start", max_turns=max_turns, silent=True)
    assert len(result.chat_history) == expected
    if expected:
        assert [m["content"] for m in result.chat_history][:4] == ["start", "b1", "a1", "b2"][: min(4, expected)]


def test_without_max_turns_the_chat_runs_until_a_reply_is_none() -> None:
    a = counting("a")
    b = agent("b", max_consecutive_auto_reply=2, default_auto_reply="ok")
    result = a.initiate_chat(b, message="go", silent=True)
    assert [m["content"] for m in result.chat_history] == ["go", "ok", "a1", "ok", "a2"]


def test_first_message_as_dict_and_as_callable() -> None:
    a, b = counting("a"), counting("b")
    result = a.initiate_chat(b, message={"content": "as dict", "role": "user"}, max_turns=1, silent=True)
    assert result.chat_history[0]["content"] == "as dict"

    def opener(sender: ConversableAgent, recipient: ConversableAgent, context: dict[str, Any]) -> str:
        return f"{sender.name} asks {recipient.name} about {context['topic']}"

    result = a.initiate_chat(b, message=opener, max_turns=1, silent=True, topic="tides")
    assert result.chat_history[0]["content"] == "a asks b about tides"


def test_no_first_message_asks_the_human() -> None:
    human = ScriptedInput(["typed by a person"])
    a = agent("a", human_input_source=human)
    result = a.initiate_chat(counting("b"), max_turns=1, silent=True)
    assert result.chat_history[0]["content"] == "typed by a person"
    assert human.prompts == [("a", ">")]
    assert result.human_input == ["typed by a person"]


def test_clear_history_false_keeps_the_earlier_chat() -> None:
    a, b = counting("a"), counting("b")
    a.initiate_chat(b, message="first", max_turns=1, silent=True)
    result = a.initiate_chat(b, message="second", max_turns=1, silent=True, clear_history=False)
    assert [m["content"] for m in result.chat_history] == ["first", "b1", "second", "b2"]


class TestCarryover:
    def test_string_and_list_carryover_are_appended_as_context(self) -> None:
        assert apply_carryover("Task.", "earlier result") == "Task.\nContext: \nearlier result"
        assert apply_carryover("Task.", ["one", {"content": "two"}, 3]) == "Task.\nContext: \none\ntwo\n3"
        assert apply_carryover("Task.", []) == "Task."

    def test_dict_and_multimodal_messages_get_carryover_without_being_mutated(self) -> None:
        message = {"content": "Task.", "role": "user"}
        assert apply_carryover(message, "c") == {"content": "Task.\nContext: \nc", "role": "user"}
        assert message == {"content": "Task.", "role": "user"}
        parts = {"content": [{"type": "text", "text": "see"}]}
        assert apply_carryover(parts, "c")["content"][0] == {"type": "text", "text": "\nContext: \nc"}  # type: ignore[index]

    def test_bad_carryover_type_is_rejected(self) -> None:
        with pytest.raises(InvalidCarryOverTypeError, match="string or a list"):
            apply_carryover("Task.", 42)

    def test_carryover_reaches_the_first_message_of_a_chat(self) -> None:
        a, b = counting("a"), counting("b")
        result = a.initiate_chat(b, message="Plan.", carryover=["sunny", "warm"], max_turns=1, silent=True)
        assert result.chat_history[0]["content"] == "Plan.\nContext: \nsunny\nwarm"


class TestSummaries:
    def test_last_msg_is_the_recipients_last_message_without_terminate(self) -> None:
        a = counting("a")
        b = agent("b", default_auto_reply="All done. TERMINATE")
        result = a.initiate_chat(b, message="go", max_turns=1, silent=True)
        assert result.summary == "All done."

    def test_callable_summary_method_gets_sender_recipient_and_args(self) -> None:
        a, b = counting("a"), counting("b")

        def summarise(sender: ConversableAgent, recipient: ConversableAgent, args: dict[str, Any]) -> str:
            return f"{sender.name}->{recipient.name}:{len(sender.chat_messages[recipient])}:{args['tag']}"

        result = a.initiate_chat(
            b, message="go", max_turns=2, summary_method=summarise, summary_args={"tag": "T"}, silent=True
        )
        assert result.summary == "a->b:4:T"

    def test_no_summary_method_gives_an_empty_summary(self) -> None:
        result = counting("a").initiate_chat(counting("b"), message="go", max_turns=1, summary_method=None, silent=True)
        assert result.summary == ""

    def test_unknown_summary_method_lists_the_valid_ones(self) -> None:
        with pytest.raises(ConfigurationError, match="last_msg, reflection_with_llm"):
            counting("a").initiate_chat(counting("b"), message="go", summary_method="longest_msg")

    def test_reflection_needs_a_model(self) -> None:
        with pytest.raises(ConfigurationError, match="needs a model"):
            counting("a").initiate_chat(counting("b"), message="go", summary_method="reflection_with_llm")

    async def test_reflection_with_llm_asks_the_model_and_its_cost_is_in_the_chat_cost(
        self, openai_server: ScriptedOpenAI
    ) -> None:
        openai_server.script(
            text("Use Python.", prompt_tokens=100, completion_tokens=10),
            text("The user wants Python.", prompt_tokens=50, completion_tokens=5),
        )
        user = counting("user")
        assistant = AssistantAgent("assistant", llm_config=openai_server.llm_config())
        result = await user.a_initiate_chat(
            assistant,
            message="Which language?",
            max_turns=1,
            summary_method="reflection_with_llm",
            summary_args={"summary_prompt": "One sentence, please."},
            silent=True,
        )
        assert result.summary == "The user wants Python."
        summary_request = openai_server.requests[1].body["messages"]
        assert summary_request == [
            {"role": "user", "content": "Which language?", "name": "user"},
            {"role": "assistant", "content": "Use Python.", "name": "assistant"},
            {"role": "system", "content": "One sentence, please."},
        ]
        usage = result.cost["usage_including_cached_inference"]["gpt-4o-mini"]
        assert (usage["prompt_tokens"], usage["completion_tokens"]) == (150, 15)

    async def test_chat_cost_covers_only_that_chat(self, openai_server: ScriptedOpenAI) -> None:
        openai_server.script(
            text("one", prompt_tokens=10, completion_tokens=1), text("two", prompt_tokens=20, completion_tokens=2)
        )
        user = counting("user")
        assistant = AssistantAgent("assistant", llm_config=openai_server.llm_config())
        await user.a_initiate_chat(assistant, message="1", max_turns=1, silent=True)
        second = await user.a_initiate_chat(assistant, message="2", max_turns=1, silent=True)
        assert second.cost["usage_including_cached_inference"]["gpt-4o-mini"]["prompt_tokens"] == 20
        assert assistant.client is not None
        assert assistant.client.usage.total_tokens == 33  # the agent's lifetime totals, as AutoGen keeps them


class TestSequentialChats:
    def test_each_chat_gets_the_earlier_summaries_as_carryover(self) -> None:
        planner = agent("planner", default_auto_reply="plan: walk")
        critic = agent("critic", default_auto_reply="critique: too far")
        writer = agent("writer", default_auto_reply="ok")
        user = counting("user")
        results = user.initiate_chats(
            [
                {"recipient": planner, "message": "Plan a trip.", "max_turns": 1},
                {"recipient": critic, "message": "Critique it.", "max_turns": 1},
                {
                    "recipient": writer,
                    "message": "Write it up.",
                    "max_turns": 1,
                    "carryover": "from the user",
                    "finished_chat_indexes_to_exclude_from_carryover": [1],
                },
            ]
        )
        assert [r.summary for r in results] == ["plan: walk", "critique: too far", "ok"]
        assert results[1].chat_history[0]["content"] == "Critique it.\nContext: \nplan: walk"
        assert results[2].chat_history[0]["content"] == "Write it up.\nContext: \nfrom the user\nplan: walk"

    def test_module_level_initiate_chats_needs_sender_and_recipient(self) -> None:
        with pytest.raises(ConfigurationError, match=r"chat_queue\[0\] has no 'sender'"):
            initiate_chats([{"recipient": agent("r"), "message": "x"}])


class TestConcurrentChats:
    async def test_independent_chats_run_concurrently_and_prerequisites_wait(self) -> None:
        a_started, b_started = asyncio.Event(), asyncio.Event()
        order: list[str] = []

        def waiting_agent(name: str, mine: asyncio.Event, other: asyncio.Event) -> ConversableAgent:
            me = agent(name)

            async def reply(*args: Any, **kwargs: Any) -> tuple[bool, str]:
                mine.set()
                await asyncio.wait_for(other.wait(), 5)  # finishes only if the other chat runs meanwhile
                order.append(name)
                return True, f"{name} summary"

            me.register_reply([ConversableAgent, None], reply)
            return me

        last = agent("last")

        async def record(recipient: Any, messages: Any = None, **kwargs: Any) -> tuple[bool, str]:
            order.append("last")
            return True, messages[-1]["content"]

        last.register_reply([ConversableAgent, None], record)
        user = counting("user")
        results = await user.a_initiate_chats(
            [
                {"chat_id": 1, "recipient": waiting_agent("a", a_started, b_started), "message": "A", "max_turns": 1},
                {"chat_id": 2, "recipient": waiting_agent("b", b_started, a_started), "message": "B", "max_turns": 1},
                {"chat_id": 3, "recipient": last, "message": "C", "max_turns": 1, "prerequisites": [1, 2]},
            ]
        )
        assert order[-1] == "last"
        assert set(results) == {1, 2, 3}
        assert results[3].chat_history[0]["content"] == "C\nContext: \na summary\nb summary"
        assert results[3].chat_id == 3

    async def test_prerequisite_cycles_and_missing_ids_are_configuration_errors(self) -> None:
        user, r = counting("user"), counting("r")
        with pytest.raises(ConfigurationError, match="form a cycle"):
            await a_initiate_chats(
                [
                    {"chat_id": 1, "sender": user, "recipient": r, "message": "x", "prerequisites": [2]},
                    {"chat_id": 2, "sender": user, "recipient": r, "message": "y", "prerequisites": [1]},
                ]
            )
        with pytest.raises(ConfigurationError, match="has no 'chat_id'"):
            await a_initiate_chats([{"sender": user, "recipient": r, "message": "x"}])
        with pytest.raises(ConfigurationError, match="not in chat_queue: \\[9\\]"):
            await a_initiate_chats(
                [{"chat_id": 1, "sender": user, "recipient": r, "message": "x", "prerequisites": [9]}]
            )


class TestNestedChats:
    def test_nested_chats_answer_with_the_last_chats_summary(self) -> None:
        researcher = agent("researcher", default_auto_reply="facts: 42")
        reviewer = agent("reviewer", default_auto_reply="reviewed: 42 is right")
        lead = agent("lead")
        lead.register_nested_chats(
            [
                {"recipient": researcher, "max_turns": 1, "summary_method": "last_msg"},
                {"recipient": reviewer, "message": "Check the facts.", "max_turns": 1},
            ],
            trigger="client",
        )
        client = agent("client")
        result = client.initiate_chat(lead, message="What is the answer?", max_turns=1, silent=True)
        assert result.chat_history[-1]["content"] == "reviewed: 42 is right"
        # The first nested chat starts from the message that triggered it.
        assert researcher.chat_messages[lead][0]["content"] == "What is the answer?"
        assert reviewer.chat_messages[lead][0]["content"] == "Check the facts.\nContext: \nfacts: 42"

    def test_nested_chats_do_not_fire_for_other_senders(self) -> None:
        lead = agent("lead", default_auto_reply="plain")
        lead.register_nested_chats([{"recipient": agent("x", default_auto_reply="nested")}], trigger="someone-else")
        result = agent("client").initiate_chat(lead, message="hi", max_turns=1, silent=True)
        assert result.chat_history[-1]["content"] == "plain"


async def test_sync_initiate_chat_works_inside_a_running_event_loop() -> None:
    asyncio.get_running_loop()  # this test runs on a loop, as in a notebook
    result = counting("a").initiate_chat(counting("b"), message="hi", max_turns=2, silent=True)
    assert [m["content"] for m in result.chat_history] == ["hi", "b1", "a1", "b2"]


def test_messages_are_printed_unless_silent(capsys: pytest.CaptureFixture[str]) -> None:
    counting("a").initiate_chat(counting("b"), message="hello there", max_turns=1)
    out = capsys.readouterr().out
    assert "a (to b):\n\nhello there\n" in out
    assert "b (to a):\n\nb1\n" in out
    counting("a").initiate_chat(counting("b"), message="quiet", max_turns=1, silent=True)
    assert capsys.readouterr().out == ""
