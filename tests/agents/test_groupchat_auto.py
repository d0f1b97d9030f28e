"""Auto speaker selection through the real openai client, people steering, termination conditions."""

from __future__ import annotations

import time
from typing import Any

import pytest

from agents import (
    AssistantAgent,
    ConversableAgent,
    External,
    GroupChat,
    GroupChatManager,
    GroupChatRun,
    MaxMessages,
    ScriptedInput,
    TextMention,
    Timeout,
    TokenUsage,
    Usage,
)
from agents.termination import ChatProgress
from tests.fakes.agents import agent, counting
from tests.fakes.openai_server import ScriptedOpenAI, text


def auto_team(server: ScriptedOpenAI, names: tuple[str, ...] = ("planner", "coder", "reviewer"), **groupchat: Any):
    members = [counting(n) for n in names]
    for member, description in zip(members, ("Plans the work.", "Writes code.", "Reviews code."), strict=False):
        member.description = description
    groupchat.setdefault("max_round", 2)
    chat = GroupChat(members, **groupchat)
    return members, chat, GroupChatManager(chat, llm_config=server.llm_config())


def spoken(chat: GroupChat) -> list[str | None]:
    return [m.get("name") for m in chat.messages]


class TestAutoSelection:
    async def test_the_model_picks_from_the_roles_and_is_asked_with_them(self, openai_server: ScriptedOpenAI) -> None:
        openai_server.script("I think the coder should go next.")
        _, chat, manager = auto_team(openai_server)
        await counting("user").a_initiate_chat(manager, message="Build a parser.", silent=True)
        assert spoken(chat) == ["user", "coder"]
        sent = openai_server.requests[0].body["messages"]
        assert sent[0]["role"] == "system"
        assert "planner: Plans the work.\ncoder: Writes code.\nreviewer: Reviews code." in sent[0]["content"]
        assert sent[1] == {"role": "user", "content": "Build a parser.", "name": "user"}
        assert sent[-1]["role"] == "system"
        assert "['planner', 'coder', 'reviewer']" in sent[-1]["content"]

    @pytest.mark.parametrize("answer", ["Story writer", "Story\\_writer", "story_writer? no: Story_writer"])
    async def test_names_match_with_spaces_or_escaped_underscores(
        self, openai_server: ScriptedOpenAI, answer: str
    ) -> None:
        openai_server.script(answer)
        _, chat, manager = auto_team(openai_server, names=("Story_writer", "Story_editor"))
        await counting("user").a_initiate_chat(manager, message="go", silent=True)
        assert spoken(chat) == ["user", "Story_writer"]

    async def test_a_name_inside_another_word_does_not_count(self, openai_server: ScriptedOpenAI) -> None:
        openai_server.script("the decoder module? the reviewer")
        _, chat, manager = auto_team(openai_server)
        await counting("user").a_initiate_chat(manager, message="go", silent=True)
        assert spoken(chat) == ["user", "reviewer"]

    async def test_several_names_then_none_trigger_the_retry_prompts(self, openai_server: ScriptedOpenAI) -> None:
        openai_server.script("planner or coder", "nobody in particular", "reviewer")
        _, chat, manager = auto_team(openai_server)
        await counting("user").a_initiate_chat(manager, message="go", silent=True)
        assert spoken(chat) == ["user", "reviewer"]
        second, third = openai_server.requests[1].body["messages"], openai_server.requests[2].body["messages"]
        assert second[-2] == {"role": "assistant", "content": "planner or coder"}
        assert second[-1]["content"].startswith("Your answer named more than one participant.")
        assert third[-1]["content"].startswith("Your answer named none of the participants.")
        assert "['planner', 'coder', 'reviewer']" in third[-1]["content"]

    async def test_after_the_retries_the_fallback_respects_the_transition_graph(
        self, openai_server: ScriptedOpenAI
    ) -> None:
        openai_server.script("a", "hmm", "still nobody")
        a, b, c, d = (counting(n) for n in ("a", "b", "c", "d"))
        chat = GroupChat(
            [a, b, c, d],
            allowed_or_disallowed_speaker_transitions={a: [c, d], b: [a], c: [a], d: [a]},
            speaker_transitions_type="allowed",
            max_retries_for_selecting_speaker=1,
            max_round=3,
        )
        manager = GroupChatManager(chat, llm_config=openai_server.llm_config())
        await counting("user").a_initiate_chat(manager, message="go", silent=True)
        # From a, only c or d may follow: taking turns from a would be b, which the graph excludes.
        assert spoken(chat) == ["user", "a", "c"]
        assert len(openai_server.requests) == 3  # one choice of a, then two failed attempts

    async def test_a_single_eligible_candidate_needs_no_model_call(self, openai_server: ScriptedOpenAI) -> None:
        a, b = counting("a"), counting("b")
        chat = GroupChat([a, b], allow_repeat_speaker=False, max_round=4)
        manager = GroupChatManager(chat, llm_config=openai_server.llm_config())
        openai_server.script("a")
        await counting("user").a_initiate_chat(manager, message="go", silent=True)
        assert spoken(chat) == ["user", "a", "b", "a"]
        assert len(openai_server.requests) == 1  # only the first choice, between a and b

    async def test_selection_calls_are_part_of_the_chat_cost(self, openai_server: ScriptedOpenAI) -> None:
        openai_server.script(text("coder", prompt_tokens=300, completion_tokens=2))
        _, _, manager = auto_team(openai_server)
        result = await counting("user").a_initiate_chat(manager, message="go", silent=True)
        usage = result.cost["usage_including_cached_inference"]["gpt-4o-mini"]
        assert (usage["prompt_tokens"], usage["completion_tokens"]) == (300, 2)

    async def test_select_speaker_auto_llm_config_is_used_when_given(self, openai_server: ScriptedOpenAI) -> None:
        openai_server.script("reviewer")
        members = [counting("coder"), counting("reviewer")]
        chat = GroupChat(
            members, select_speaker_auto_llm_config=openai_server.llm_config("selector-model"), max_round=2
        )
        manager = GroupChatManager(chat)
        await counting("user").a_initiate_chat(manager, message="go", silent=True)
        assert openai_server.requests[0].body["model"] == "selector-model"

    async def test_tool_calls_in_the_transcript_keep_the_selection_prompt_valid(
        self, openai_server: ScriptedOpenAI
    ) -> None:
        # The selection prompt writes tool calls and results out as text: no dangling tool_calls.
        openai_server.script("coder")
        _, chat, manager = auto_team(openai_server)
        chat.messages.append(
            __import__("agents").Message.from_dict(
                {
                    "role": "assistant",
                    "name": "planner",
                    "content": None,
                    "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "search", "arguments": "{}"}}],
                }
            )
        )
        await counting("user").a_initiate_chat(manager, message="go", silent=True)
        sent = openai_server.requests[0].body["messages"]
        assert sent[1]["content"] == "(calls tool search with {})"


class TestPeopleSteer:
    async def test_a_person_naming_an_agent_picks_the_next_speaker_without_asking_the_model(
        self, openai_server: ScriptedOpenAI
    ) -> None:
        human = ScriptedInput(["@reviewer please look at this", ""])
        person = ConversableAgent("person", llm_config=False, human_input_mode="ALWAYS", human_input_source=human)
        coder, reviewer = counting("coder"), counting("reviewer")
        chat = GroupChat(
            [person, coder, reviewer],
            speaker_selection_method=lambda last, chat: person if last is not person else "auto",
            max_round=5,
        )
        manager = GroupChatManager(chat, llm_config=openai_server.llm_config())
        openai_server.script("coder")
        await counting("starter").a_initiate_chat(manager, message="start", silent=True)
        # person steered to reviewer (no model call); person's empty answer then let the model choose.
        assert spoken(chat) == ["starter", "person", "reviewer", "person", "coder"]
        assert len(openai_server.requests) == 1

    async def test_the_first_message_from_a_person_can_name_the_first_speaker(
        self, openai_server: ScriptedOpenAI
    ) -> None:
        _, chat, manager = auto_team(openai_server)
        person = ConversableAgent("person", llm_config=False, human_input_mode="ALWAYS")
        run = GroupChatRun(manager, "coder, write the tokenizer first", person, silent=True)
        await run.a_run()
        assert spoken(chat) == ["person", "coder"]
        assert openai_server.requests == []

    async def test_an_agents_own_message_naming_another_does_not_steer(self, openai_server: ScriptedOpenAI) -> None:
        openai_server.script("reviewer")
        _, chat, manager = auto_team(openai_server)
        run = GroupChatRun(manager, "coder should do it", agent("bot"), silent=True)
        await run.a_run()
        assert spoken(chat) == ["bot", "reviewer"]


class TestTermination:
    def run_round_robin(self, condition: Any, max_round: int = 20, members: list[ConversableAgent] | None = None):
        members = members or [counting("a"), counting("b")]
        chat = GroupChat(members, speaker_selection_method="round_robin", max_round=max_round)
        manager = GroupChatManager(chat, termination_condition=condition)
        counting("user").initiate_chat(manager, message="go", silent=True)
        assert manager.last_run is not None
        return chat, manager.last_run.result

    def test_max_messages(self) -> None:
        chat, result = self.run_round_robin(MaxMessages(3))
        assert len(chat.messages) == 3
        assert result.stop_reason == "MaxMessages: 3 of 3 messages"

    def test_text_mention_from_a_given_source(self) -> None:
        said = agent("judge", default_auto_reply="APPROVE")
        other = agent("other", default_auto_reply="APPROVE too")
        chat, result = self.run_round_robin(TextMention("APPROVE", sources=("judge",)), members=[other, said])
        assert [m.get("name") for m in chat.messages] == ["user", "other", "judge"]
        assert result.stop_reason == "TextMention: judge wrote 'APPROVE'"

    def test_or_stops_at_the_first_and_and_at_both(self) -> None:
        chat, result = self.run_round_robin(MaxMessages(4) | TextMention("never said"))
        assert len(chat.messages) == 4
        done = agent("done", default_auto_reply="DONE")
        chat, result = self.run_round_robin(MaxMessages(4) & TextMention("DONE"), members=[counting("x"), done])
        # DONE appears at message 3, but MaxMessages(4) is only met at message 5 (the next DONE).
        assert [m["content"] for m in chat.messages] == ["go", "x1", "DONE", "x2", "DONE"]
        assert result.stop_reason == "MaxMessages: 5 of 4 messages and TextMention: done wrote 'DONE'"

    def test_external_stops_when_set(self) -> None:
        stop = External()
        a = agent("a")
        replies = iter(["one", "two", "three"])

        def reply(*args: Any, **kwargs: Any) -> tuple[bool, str]:
            answer = next(replies)
            if answer == "two":
                stop.set()
            return True, answer

        a.register_reply([ConversableAgent, None], reply)
        chat, result = self.run_round_robin(stop, members=[a, counting("b")])
        assert [m["content"] for m in chat.messages] == ["go", "one", "b1", "two"]
        assert result.stop_reason == "External: stop requested"

    async def test_token_usage(self, openai_server: ScriptedOpenAI) -> None:
        openai_server.script(*[text(f"reply {i}", prompt_tokens=40, completion_tokens=10) for i in range(5)])
        bot = AssistantAgent("bot", llm_config=openai_server.llm_config())
        chat = GroupChat([bot, counting("b")], speaker_selection_method="round_robin", max_round=20)
        manager = GroupChatManager(chat, termination_condition=TokenUsage(max_total_tokens=100))
        await counting("user").a_initiate_chat(manager, message="go", silent=True)
        assert len(openai_server.requests) == 2  # 50 tokens each: stop after the second call
        assert manager.last_run is not None
        assert manager.last_run.result.stop_reason == "TokenUsage: 100 total tokens (limit 100)"

    def test_timeout(self) -> None:
        usage = Usage()
        assert Timeout(60).check(ChatProgress([], usage, started_at=time.time())) is None
        assert Timeout(60).check(ChatProgress([], usage, started_at=time.time() - 61)) == "Timeout: 61 s of 60 s"
        chat, result = self.run_round_robin(Timeout(0))
        assert len(chat.messages) == 1
        assert (result.stop_reason or "").startswith("Timeout:")

    async def test_a_two_agent_chat_takes_a_termination_condition_too(self) -> None:
        result = await counting("a").a_initiate_chat(
            counting("b"), message="go", termination_condition=TextMention("b2"), silent=True
        )
        assert [m["content"] for m in result.chat_history] == ["go", "b1", "a1", "b2"]
        assert result.stop_reason == "TextMention: b wrote 'b2'"

    async def test_stop_reasons_of_two_agent_chats(self) -> None:
        result = await counting("a").a_initiate_chat(counting("b"), message="go", max_turns=2, silent=True)
        assert result.stop_reason == "max_turns (2) reached"
        ender = agent("ender", default_auto_reply="TERMINATE")
        result = await agent("starter", default_auto_reply="x").a_initiate_chat(ender, message="go", silent=True)
        assert result.stop_reason == "termination message from ender"
        human = ScriptedInput(["exit"])
        person = agent("person", human_input_mode="ALWAYS", human_input_source=human)
        result = await person.a_initiate_chat(counting("b"), message="go", silent=True)
        assert result.stop_reason == "exit typed for person"

    async def test_request_stop_ends_a_waiting_run(self) -> None:
        from agents import DeferredInput

        person = ConversableAgent(
            "person", llm_config=False, human_input_mode="ALWAYS", human_input_source=DeferredInput()
        )
        chat = GroupChat([counting("a"), person], speaker_selection_method="round_robin")
        run = GroupChatRun(GroupChatManager(chat), "go", agent("bot"), silent=True)
        assert await run.a_run() == "waiting"
        run.request_stop()
        assert await run.a_run() == "finished"
        assert run.result.stop_reason == "stopped: a stop was requested"
        assert [m.get("name") for m in chat.messages] == ["bot", "a"]


async def test_injected_text_is_delivered_at_the_next_turn_and_steers_it(openai_server: ScriptedOpenAI) -> None:
    _, chat, manager = auto_team(openai_server, max_round=3)
    person = ConversableAgent("person", llm_config=False, human_input_mode="ALWAYS")
    run = GroupChatRun(manager, "Plan the release.", person, silent=True, from_human=True)
    await run.a_step()  # the first message goes in
    while spoken(chat) != ["person"]:
        await run.a_step()
    run.inject("@reviewer have a look first")
    await run.a_run()
    assert spoken(chat) == ["person", "person", "reviewer"]
    assert chat.messages[1]["content"] == "@reviewer have a look first"
    assert run.human_indices == [0, 1]
    assert openai_server.requests == []  # the person's @reviewer chose, not the model
