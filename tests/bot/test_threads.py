"""Threads end to end: the in-memory platform, the real dispatcher and sessions, SQLite, and the
real openai client talking to the scripted server that plays the crew (tests/bot/crew.py)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from adapters import InMemoryPlatform, OutboundMessage, PlatformError, Posted, ThreadRef
from storage import Database
from tests.bot.crew import DONE, QUESTION, Crew, RunningBot, authors, crew_bot, in_thread, last_starts, until_waiting
from tests.fakes.openai_server import ScriptedOpenAI, error, text, tool_calls


def posted_in(bot: RunningBot, thread: str) -> list[Posted]:
    return bot.platform.in_thread(thread)


async def test_a_mention_starts_a_group_chat_whose_agents_post_as_their_personas(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    async with crew_bot(server, tmp_path) as bot:
        said = await until_waiting(bot)
        posts = posted_in(bot, "t1")
        assert authors(posts) == ["planner", "coder", "reviewer", "threadcrew"]
        assert posts[0].message.persona.display_name == "Plan Bot"
        assert posts[0].message.persona.icon_emoji == ":memo:"
        assert posts[0].text == "planner on 'chart the squares'"
        assert [b.action_id for b in posts[-1].message.buttons] == ["continue", "stop"]
        assert model.seen("selector") == 4  # planner, coder, reviewer, then the people

        stored = await bot.transcript("t1")
        assert [(m.author_kind, m.author_id) for m in stored] == [
            ("human", "alice"),
            ("agent", "planner"),
            ("agent", "coder"),
            ("agent", "reviewer"),
            ("system", None),
        ]
        assert all(m.posted_at is not None for m in stored)
        assert stored[0].platform_message_id == said.message_id  # people's words are in the thread already
        assert (await bot.conversation("t1")).status == "waiting"
        # The platform showed the team at work while it was, and stopped when it turned to the people.
        assert bot.platform.statuses == [("t1", "is working…"), ("t1", None)]


async def test_a_reply_answers_the_wait_and_the_run_goes_on_to_its_end(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    async with crew_bot(server, tmp_path) as bot:
        await until_waiting(bot)
        await bot.platform.say("t1", "yes, ship it", who="bob")
        await bot.platform.wait_for(last_starts(DONE))
        await bot.idle()

        posts = posted_in(bot, "t1")
        assert posts[3].text.endswith("answered by bob.")  # the question's buttons went
        assert posts[3].message.buttons == ()
        reviewer_saw = model.requests_of("reviewer")[-1]
        assert {"role": "user", "name": "user", "content": "yes, ship it"} in reviewer_saw
        stored = await bot.transcript("t1")
        assert [m.author_id for m in stored][4:] == [None, "bob", "planner", "coder", "reviewer"]
        assert (await bot.conversation("t1")).status == "finished"


async def test_an_at_mention_in_a_reply_makes_that_agent_speak_next(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    async with crew_bot(server, tmp_path) as bot:
        await until_waiting(bot)
        selections = model.seen("selector")
        model.say("coder", "coder adds labels")
        await bot.platform.say("t1", "@coder add labels please")
        await bot.platform.wait_for(last_starts("coder adds labels"))
        # The person chose; without the @coder the crew's selector would have picked the planner.
        assert model.seen("selector") == selections
        assert authors(posted_in(bot, "t1"))[-1] == "coder"


async def test_stop_ends_the_run_after_the_step_under_way(crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path) -> None:
    model, server = crew
    async with crew_bot(server, tmp_path) as bot:
        gate = model.hold("coder")
        await bot.platform.mention("t1", "chart the squares")
        await model.arrived("coder")
        await bot.platform.command("t1", "stop", who="bob")
        gate.set()
        await bot.platform.wait_for(last_starts("Stopped by bob."))
        await bot.idle()
        assert authors(posted_in(bot, "t1")) == ["planner", "coder", "threadcrew"]
        assert model.seen("reviewer") == 0
        assert (await bot.conversation("t1")).status == "finished"


async def test_stop_while_the_team_waits_for_people_ends_the_run(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with crew_bot(server, tmp_path) as bot:
        await until_waiting(bot)
        await bot.platform.command("t1", "stop", who="bob")
        await bot.platform.wait_for(last_starts("Stopped by bob."))
        await bot.idle()
        question = posted_in(bot, "t1")[3]
        assert question.text.endswith("stopped by bob.")
        assert question.message.buttons == ()
        assert (await bot.conversation("t1")).status == "finished"


async def test_a_message_while_the_agents_work_is_heard_at_the_next_turn(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    async with crew_bot(server, tmp_path) as bot:
        gate = model.hold("coder")
        await bot.platform.mention("t1", "chart the squares")
        await model.arrived("coder")
        said = await bot.platform.say("t1", "use blue bars", who="bob")
        gate.set()
        await bot.platform.wait_for(in_thread("t1"))
        stored = await bot.transcript("t1")
        assert [m.author_id for m in stored][:5] == ["alice", "planner", "coder", "bob", "planner"]
        assert stored[3].content == "use blue bars"
        assert stored[3].platform_message_id == said.message_id
        # Bob's words reached the model in the next speaker's request, as the people's.
        assert {"role": "user", "name": "user", "content": "use blue bars"} in model.requests_of("planner")[-1]


async def test_pause_holds_the_run_and_resume_and_status_work(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    async with crew_bot(server, tmp_path) as bot:
        gate = model.hold("planner")
        await bot.platform.mention("t1", "chart the squares")
        await model.arrived("planner")
        await bot.platform.command("t1", "pause")
        gate.set()
        await bot.idle()
        assert authors(posted_in(bot, "t1")) == ["planner", "threadcrew"]
        assert model.seen("coder") == 0
        assert (await bot.conversation("t1")).status == "paused"

        await bot.platform.command("t1", "status")
        await bot.platform.wait_for(last_starts("Status: paused; 2 messages"))
        await bot.platform.command("t1", "resume")
        await bot.platform.wait_for(in_thread("t1"))
        assert authors(posted_in(bot, "t1"))[2:] == ["threadcrew", "threadcrew", "coder", "reviewer", "threadcrew"]


async def test_two_threads_run_concurrently_without_mixing(crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path) -> None:
    model, server = crew
    async with crew_bot(server, tmp_path) as bot:
        gates = [model.hold("planner"), model.hold("planner")]
        await bot.platform.mention("alpha", "task alpha")
        await bot.platform.mention("beta", "task beta", who="bob")
        await model.arrived("planner", 2)  # both runs are under way at once
        for gate in gates:
            gate.set()
        await bot.platform.wait_for(lambda posts: in_thread("alpha")(posts) and in_thread("beta")(posts))
        for thread, task, other in (("alpha", "task alpha", "task beta"), ("beta", "task beta", "task alpha")):
            posts = posted_in(bot, thread)
            assert authors(posts) == ["planner", "coder", "reviewer", "threadcrew"]
            assert all(other not in p.text for p in posts)
            assert posts[0].text == f"planner on '{task}'"
        first_alpha, first_beta = await bot.transcript("alpha"), await bot.transcript("beta")
        assert (first_alpha[0].author_id, first_beta[0].author_id) == ("alice", "bob")
        assert (await bot.conversation("alpha")).id != (await bot.conversation("beta")).id


async def test_duplicate_deliveries_of_one_event_are_handled_once(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    async with crew_bot(server, tmp_path) as bot:
        event = await bot.platform.mention("t1", "chart the squares")
        await bot.platform.deliver(event)  # a platform's retry: the same event key
        await bot.platform.say("t1", "chart the squares", message_id=event.message_id)  # same message, as a message
        await bot.platform.wait_for(in_thread("t1"))
        await bot.idle()
        assert model.seen("planner") == 1
        assert authors(posted_in(bot, "t1")) == ["planner", "coder", "reviewer", "threadcrew"]
        assert [m.author_kind for m in await bot.transcript("t1")].count("human") == 1


async def test_messages_that_do_not_start_a_run_are_left_alone(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    async with crew_bot(server, tmp_path, triggers={"keywords": ["crew, please"]}) as bot:
        await bot.platform.say("t1", "lunch anyone?")
        await bot.platform.command("t2", "status")
        await bot.platform.say("t3", "Crew, please chart the squares")  # a trigger word starts one
        await bot.platform.wait_for(in_thread("t3"))
        await bot.idle()
        assert posted_in(bot, "t1") == []
        assert [p.text for p in posted_in(bot, "t2")] == []
        assert await bot.db.stores.conversations.find("memory", "W1", "C1", "t1") is None
        assert model.seen("planner") == 1


async def test_manual_selection_asks_the_thread_with_a_button_per_agent(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    async with crew_bot(server, tmp_path, group_chat={"speaker_selection": "manual"}) as bot:
        await bot.platform.mention("t1", "chart the squares")
        await bot.platform.wait_for(last_starts("Who should speak next?"))
        choice = posted_in(bot, "t1")[-1]
        assert [b.value for b in choice.message.buttons] == ["user", "runner", "planner", "coder", "reviewer"]
        await bot.platform.press("t1", "choose", "reviewer", who="bob")
        await bot.platform.wait_for(last_starts("Reviewed 'chart the squares'."))
        assert posted_in(bot, "t1")[0].text.endswith("bob chose reviewer.")
        assert model.seen("selector") == 0  # people chose; no model was asked


# -- code, approvals and files -----------------------------------------------------------------------------

CODE = "```python\nopen('result.txt', 'w').write('forty-two')\nprint(6 * 7)\n```"


def coding_crew(model: Crew) -> None:
    model.after.update({"coder": "runner", "runner": "reviewer"})
    model.say("coder", f"Here it is:\n{CODE}")


async def test_code_runs_once_an_allowed_person_approves_and_its_file_is_posted(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    coding_crew(model)
    async with crew_bot(server, tmp_path, approvers=["bob"]) as bot:
        await bot.platform.mention("t1", "compute six times seven")
        await bot.platform.wait_for(lambda posts: bool(posts) and bool(posts[-1].message.buttons))
        prompt = posted_in(bot, "t1")[-1]
        assert prompt.text.startswith("runner wants to run the code above (python, 2 lines).")
        assert [b.action_id for b in prompt.message.buttons] == ["approve", "reject"]

        await bot.platform.press("t1", "approve", "approve", who="alice")
        await bot.platform.wait_for(lambda posts: posts[-1].message.ephemeral_for == "alice")
        assert posted_in(bot, "t1")[-1].text == "You are not allowed to approve or reject this."

        await bot.platform.press("t1", "approve", "approve", who="bob")
        await bot.platform.wait_for(in_thread("t1"))
        posts = posted_in(bot, "t1")
        assert posts[2].text.endswith("Approved by bob.")
        ran = next(p for p in posts if p.author == "runner")
        assert ran.text.startswith("Ran the code: 0 (execution succeeded)")
        assert "42" in ran.text
        assert [(a.name, a.data) for a in ran.message.attachments] == [("result.txt", b"forty-two")]


async def test_a_rejected_run_does_not_run_and_the_team_hears_why(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    coding_crew(model)
    async with crew_bot(server, tmp_path) as bot:
        await bot.platform.mention("t1", "compute six times seven")
        await bot.platform.wait_for(lambda posts: bool(posts) and bool(posts[-1].message.buttons))
        await bot.platform.press("t1", "reject", "reject", who="carol")
        await bot.platform.wait_for(in_thread("t1"))
        ran = next(p for p in posted_in(bot, "t1") if p.author == "runner")
        assert ran.text == "Did not run the code.\n\n```\nrunning the code was rejected by carol\n```"
        assert not list((tmp_path / "data" / "work").rglob("result.txt"))
        reviewer_saw = model.requests_of("reviewer")[-1]
        assert any("rejected by carol" in str(m.get("content")) for m in reviewer_saw)


async def test_a_tool_call_is_run_by_the_runner_and_its_result_posted(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    model.after.update({"coder": "runner", "runner": "reviewer"})
    model.say("coder", tool_calls(("word_count", {"sentence": "one two three"})))
    async with crew_bot(server, tmp_path) as bot:
        await bot.platform.mention("t1", "count the words")
        await bot.platform.wait_for(in_thread("t1"))
        posts = posted_in(bot, "t1")
        assert authors(posts) == ["planner", "coder", "runner", "reviewer", "threadcrew"]
        assert posts[1].text.startswith("Calling `word_count` with:")
        assert posts[2].text == "Tool result:\n```\n3\n```"


# -- limits and failures ------------------------------------------------------------------------------------


async def test_a_budget_of_rounds_stops_the_run_with_a_note(crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path) -> None:
    _, server = crew
    async with crew_bot(server, tmp_path, budget={"max_rounds": 3}) as bot:
        await bot.platform.mention("t1", "chart the squares")
        await bot.platform.wait_for(last_starts("The team stopped"))
        assert authors(posted_in(bot, "t1")) == ["planner", "coder", "threadcrew"]
        assert posted_in(bot, "t1")[-1].text == "The team stopped: this run reached its 3 messages."


async def test_a_token_budget_counts_across_runs_of_the_thread(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    model.say("planner", text("a plan", prompt_tokens=600, completion_tokens=100))
    async with crew_bot(server, tmp_path, budget={"max_tokens": 650}) as bot:
        await bot.platform.mention("t1", "chart the squares")
        await bot.platform.wait_for(last_starts("The team stopped"))
        assert "of its 650 tokens" in posted_in(bot, "t1")[-1].text
        usage = await bot.db.stores.usage.totals(conversation_id=(await bot.conversation("t1")).id)
        assert sum(u.prompt_tokens + u.completion_tokens for u in usage.values()) >= 700


async def test_a_cost_budget_stops_the_run_once_the_thread_has_spent_it(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    model.say("planner", text("a plan", prompt_tokens=1000, completion_tokens=1000))
    priced = {"model": "gpt-4o-mini", "base_url": server.base_url, "api_key": "sk-test", "price": [1.0, 2.0]}
    async with crew_bot(server, tmp_path, models={"default": priced}, budget={"max_cost_usd": 2.5}) as bot:
        await bot.platform.mention("t1", "chart the squares")
        await bot.platform.wait_for(last_starts("The team stopped"))
        # The planner's call alone cost $1 + $2 (per 1k tokens), past the $2.50 budget.
        note = posted_in(bot, "t1")[-1].text
        assert note.startswith("The team stopped: this thread has spent $3.")
        assert note.endswith(" of its $2.50.")
        assert authors(posted_in(bot, "t1")) == ["planner", "threadcrew"]
        assert (await bot.conversation("t1")).cost >= 3.0


async def test_a_failing_model_stops_the_run_with_a_note_that_reveals_nothing(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    model.say("planner", error(401, "Incorrect API key provided: sk-test-crew-0123"))
    async with crew_bot(server, tmp_path) as bot:
        await bot.platform.mention("t1", "chart the squares")
        await bot.platform.wait_for(last_starts("The team stopped"))
        note = posted_in(bot, "t1")[-1].text
        assert note == "The team stopped: the model endpoint answered with HTTP 401. Mention me to try again."
        assert (await bot.conversation("t1")).status == "failed"

        await bot.platform.mention("t1", "try again please")  # a new run in the same thread
        await bot.platform.wait_for(in_thread("t1"))
        assert posted_in(bot, "t1")[-4].text == "planner on 'try again please'"


async def test_a_person_who_may_not_start_runs_is_told_privately(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    async with crew_bot(server, tmp_path, starters=["bob"]) as bot:
        await bot.platform.mention("t1", "chart the squares", who="mallory")
        await bot.platform.wait_for(bool)
        assert posted_in(bot, "t1")[0].message.ephemeral_for == "mallory"
        assert model.seen("planner") == 0


# -- restarts ------------------------------------------------------------------------------------------------


async def test_a_restarted_bot_answers_a_wait_left_by_the_one_before(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with crew_bot(server, tmp_path) as bot:
        await until_waiting(bot)
    async with crew_bot(server, tmp_path) as bot:
        await bot.platform.say("t1", "yes, ship it")
        await bot.platform.wait_for(last_starts(DONE))
        # Only what the run said after the restart is posted: nothing from before it again.
        assert authors(bot.platform.posts) == ["planner", "coder", "reviewer"]
        stored = await bot.transcript("t1")
        assert [m.author_id for m in stored][4:] == [None, "alice", "planner", "coder", "reviewer"]
        assert QUESTION in (stored[3].content or "")


class DiesShowingTheDecision(InMemoryPlatform):
    """The process dies as it shows on a question what was decided (its buttons going)."""

    async def update(self, thread: ThreadRef, message_id: str, message: OutboundMessage) -> None:
        raise asyncio.CancelledError  # as a SIGKILL would: nothing after this line runs


async def test_the_question_shows_the_answer_only_once_the_answer_is_stored(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    # Shown first, a crash would leave a question without its buttons and without a stored answer.
    _, server = crew
    async with crew_bot(server, tmp_path, platform=DiesShowingTheDecision()) as bot:
        await until_waiting(bot)
        await bot.platform.say("t1", "yes, ship it", who="bob")
        await bot.idle()
        [wait] = await bot.db.stores.waits.of_conversation((await bot.conversation("t1")).id)
        assert (wait.answer, wait.answered_by) == ("yes, ship it", "bob")


async def test_an_event_handled_elsewhere_meanwhile_is_not_handled_again(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model, server = crew
    caplog.set_level(logging.INFO)
    async with crew_bot(server, tmp_path) as bot:
        coder = model.hold("coder")
        await bot.platform.mention("t1", "chart the squares")
        await model.arrived("coder")
        await bot.platform.say("t1", "and the cubes", who="bob")  # given to this thread's worker, after the step
        [(inbox_id, event)] = await bot.db.stores.events.pending("memory")
        assert event["text"] == "and the cubes"
        await bot.db.stores.events.handled([inbox_id])  # as another worker would (a sweep gave it to both)
        coder.set()
        await bot.platform.wait_for(lambda posts: len(posts) == 4)
        await bot.idle()
        stored = await bot.transcript("t1")
    assert [m.author_id for m in stored] == ["alice", "planner", "coder", "reviewer", None]
    assert "and the cubes" not in str(model.requests_of("reviewer"))
    assert [r.getMessage() for r in caplog.records if r.name == "bot.workqueue.thread_work"] == []  # no failure


class QuestionDeleted(InMemoryPlatform):
    """Someone deleted the question: the platform refuses to change it."""

    async def update(self, thread: ThreadRef, message_id: str, message: OutboundMessage) -> None:
        raise PlatformError("chat.update failed: message_not_found", code="message_not_found")


async def test_a_question_that_cannot_show_its_answer_does_not_hold_the_run_up(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, server = crew
    async with crew_bot(server, tmp_path, platform=QuestionDeleted()) as bot:
        await until_waiting(bot)
        with caplog.at_level(logging.INFO):
            await bot.platform.say("t1", "yes, ship it", who="bob")
            await bot.platform.wait_for(last_starts(DONE))
            await bot.idle()
        assert (await bot.conversation("t1")).status == "finished"
    # The answer went on at once: the thread's work did not fail (nor wait to be tried again).
    assert [r.getMessage() for r in caplog.records if r.name == "bot.workqueue.thread_work"] == []
    assert any("could not show the decision" in r.getMessage() for r in caplog.records)


class AnotherProcessEndsTheRun(InMemoryPlatform):
    """As the coder's post goes out, another process stores the run as ended and someone mentions
    the bot again: this process's next save finds the conversation changed under it."""

    db: Database
    ended_it = False

    async def post(self, thread: ThreadRef, message: OutboundMessage) -> str:
        posted = await super().post(thread, message)
        if message.persona.name == "coder" and not self.ended_it:
            self.ended_it = True
            record = await self.db.stores.conversations.find("memory", "W1", "C1", thread.thread_id)
            assert record is not None
            await self.db.stores.conversations.save_state(
                record.id, {}, expected_version=record.version, status="finished"
            )
            await self.mention(thread.thread_id, "now the cubes")
        return posted


async def test_an_event_is_handled_again_on_what_another_process_stored_meanwhile(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    platform = AnotherProcessEndsTheRun()
    async with crew_bot(server, tmp_path, platform=platform) as bot:
        platform.db = bot.db
        await bot.platform.mention("t1", "chart the squares")
        await bot.platform.wait_for(in_thread("t1"))
        await bot.idle()
        stored = await bot.transcript("t1")
    # The mention started a run on what was stored (no run), not on the run this process held.
    assert [m.author_id for m in stored] == ["alice", "planner", "coder", "alice", "planner", "coder", "reviewer", None]
    planner_saw = str(model.requests_of("planner")[-1])
    assert "now the cubes" in planner_saw
    assert "chart the squares" not in planner_saw


class FailingPosts(InMemoryPlatform):
    """Posting fails after ``posts_before`` posts (the platform is down, or the process dies)."""

    def __init__(self, posts_before: int, *, after_posting: bool) -> None:
        super().__init__()
        self.posts_before = posts_before
        self.after_posting = after_posting  # the post went out, but the bot never heard back
        self.failing = True

    async def post(self, thread: ThreadRef, message: OutboundMessage) -> str:
        if self.failing and len(self.posts) >= self.posts_before:
            if self.after_posting:
                await super().post(thread, message)
            raise ConnectionError("the platform went away")
        return await super().post(thread, message)


@pytest.mark.parametrize("after_posting", [False, True], ids=["post-failed", "post-went-out-unconfirmed"])
async def test_what_was_stored_but_not_posted_is_posted_once_after_a_restart(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, after_posting: bool
) -> None:
    _, server = crew
    platform = FailingPosts(1, after_posting=after_posting)
    async with crew_bot(server, tmp_path, platform) as bot:
        await bot.platform.mention("t1", "chart the squares")
        await bot.idle()  # the worker gave up at the failed post; the run is stored
        unposted = await bot.db.stores.messages.outbox()
        assert [m.author_id for m in unposted] == ["coder"]
    platform.failing = False
    async with crew_bot(server, tmp_path, platform) as bot:
        await bot.platform.wait_for(in_thread("t1"))
        await bot.idle()  # the last post is marked posted after the platform took it
        assert authors(platform.posts) == ["planner", "coder", "reviewer", "threadcrew"]
        assert await bot.db.stores.messages.outbox() == []


async def test_shutdown_lets_the_step_under_way_finish_and_the_next_start_goes_on(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    async with crew_bot(server, tmp_path) as bot:
        gate = model.hold("coder")
        await bot.platform.mention("t1", "chart the squares")
        await model.arrived("coder")
        closing = asyncio.create_task(bot.platform.close())  # shutdown begins mid-step
        gate.set()
        await closing
    assert authors(bot.platform.posts) == ["planner", "coder"]
    async with crew_bot(server, tmp_path) as bot:
        await bot.platform.wait_for(in_thread("t1"))
        assert authors(bot.platform.posts) == ["reviewer", "threadcrew"]
        assert model.seen("coder") == 1  # the step finished before the stop; it was not asked again
