"""Scheduled runs and timeouts in a running bot: the crew behind the scripted OpenAI server, on the
in-memory platform and on Slack's fake; the clock the scheduler is told, never the wall clock."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters import Author, InMemoryPlatform, ThreadEvent
from bot.scheduling import Scheduler, WaitTimeouts
from bot.scheduling.service import dispatcher_expire, dispatcher_start
from tests.bot.crew import Crew, RunningBot, crew_bot, in_thread
from tests.bot.test_runtime import WAITING, two_platforms
from tests.fakes.openai_server import ScriptedOpenAI
from tests.fakes.slack_requests import command_fields

PARIS = ZoneInfo("Europe/Paris")
STANDUP = {
    "cron": "0 9 * * 1-5",
    "timezone": "Europe/Paris",
    "platform": "memory",
    "workspace": "W1",
    "channel": "C1",
    "message": "summarise yesterday",
}
_keys = itertools.count()


@pytest.fixture
def crew() -> Iterator[tuple[Crew, ScriptedOpenAI]]:
    model = Crew()
    with ScriptedOpenAI(responder=model) as server:
        yield model, server


def scheduler_of(bot: RunningBot) -> Scheduler:
    return Scheduler(bot.dispatcher.rt.db, dispatcher_start(bot.dispatcher))


def timeouts_of(bot: RunningBot) -> WaitTimeouts:
    rt = bot.dispatcher.rt
    return WaitTimeouts(rt.db, rt.catalog.timeouts, dispatcher_expire(bot.dispatcher))


async def channel_command(platform: InMemoryPlatform, text: str) -> str:
    """``/threadcrew schedule TEXT`` in channel C1; returns the private answer."""
    before = len(platform.posts)
    key = f"cmd{next(_keys)}"
    await platform.deliver(
        ThreadEvent("command", platform.thread(""), Author("alice", "Alice"), key, text, command="schedule")
    )
    [answer] = platform.posts[before:]
    assert answer.message.ephemeral_for == "alice"
    return answer.text


async def test_a_team_file_schedule_opens_a_thread_and_runs_the_team_there(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with crew_bot(server, tmp_path, schedules=[STANDUP]) as bot:
        [row] = await bot.db.stores.schedules.list()  # written from the team file at start
        assert (row.name, row.source, row.team) == ("crew-1", "file", "crew")
        scheduler = scheduler_of(bot)
        fire = scheduler.next_fire(row, row.created_at)
        assert fire is not None
        assert fire.astimezone(PARIS).strftime("%H:%M") == "09:00"

        assert [f.at for f in await scheduler.run_due(fire + dt.timedelta(minutes=2))] == [fire]
        opening = bot.platform.posts[0]
        assert opening.text == "Scheduled run crew-1: summarise yesterday"
        thread = opening.thread.thread_id
        await bot.platform.wait_for(in_thread(thread))
        posts = bot.platform.in_thread(thread)
        assert [p.author for p in posts] == ["threadcrew", "planner", "coder", "reviewer", "threadcrew"]
        assert "summarise yesterday" in posts[1].text
        # The same fire, seen again (another wake-up, or another process): nothing more.
        assert await scheduler.run_due(fire + dt.timedelta(minutes=3)) == []
        conversation = await bot.db.stores.conversations.find("memory", "W1", "C1", thread)
        assert conversation is not None
        assert conversation.team == "crew"


async def test_schedules_are_added_listed_paused_and_deleted_from_the_channel(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with crew_bot(server, tmp_path) as bot:
        added = await channel_command(
            bot.platform, 'add "0 9 * * 1-5" tz=Europe/Paris standup here Summarise yesterday'
        )
        assert added.startswith("Added: standup (on): 0 9 * * 1-5 (Europe/Paris), team crew, in memory C1, next ")
        assert added.endswith(": Summarise yesterday")
        assert "09:00 CET" in added or "09:00 CEST" in added
        linked = await channel_command(bot.platform, "add every 2h team=crew digest <#C9|eng> What changed?")
        assert "digest (on): every 2h" in linked
        assert (await bot.db.stores.schedules.get("digest")).channel_id == "C9"

        assert "standup (on)" in await channel_command(bot.platform, "list")
        assert await channel_command(bot.platform, "pause standup") == "Paused the schedule standup."
        assert "standup (paused)" in await channel_command(bot.platform, "list")
        assert await channel_command(bot.platform, "resume standup") == "Resumed the schedule standup."
        assert await channel_command(bot.platform, "delete standup") == "Deleted the schedule standup."
        assert [s.name for s in await bot.db.stores.schedules.list()] == ["digest"]

        refusals = {
            'add "0 9 * *" x here hi': "is not a cron expression: write five fields",
            'add "0 9 * * 1-5" tz=Paris x here hi': "unknown time zone 'Paris': use an IANA name",
            "add every 2h digest here again": "a schedule named 'digest' exists already: pick another name",
            'add "0 9 * * *" x #eng hi': "'#eng' is not a channel I can find: type # and pick the channel",
            "add tomorrow x here hi": "say when first, as a quoted cron expression or `every 30m`",
            "pause nothing": "there is no schedule named 'nothing'; `schedule list` shows them",
            "add every 2h team=nobody x here hi": "no team named 'nobody'; known teams: crew",
            "add every 2h x <#C8|eng> hi": "I am not in channel C8: add me to it, then try again",
        }
        bot.platform.absent_from.add("C8")
        for text, expected in refusals.items():
            answer = await channel_command(bot.platform, text)
            assert answer.startswith("Not done: ")
            assert expected in answer
        assert [s.name for s in await bot.db.stores.schedules.list()] == ["digest"]


async def test_an_unanswered_question_is_reminded_once_then_the_team_goes_on(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    timeouts = {"question": {"after": "30m", "then": "continue", "remind": True}}
    async with crew_bot(server, tmp_path, timeouts=timeouts) as bot:
        await bot.platform.mention("t1", "chart the squares")
        await bot.platform.wait_for(in_thread("t1"))
        [wait] = await bot.db.stores.waits.open_waits()
        assert wait.expires_at is not None  # the deadline is in the row, 30 minutes after it opened
        assert abs(wait.expires_at - wait.created_at - dt.timedelta(minutes=30)) < dt.timedelta(seconds=1)
        checker = timeouts_of(bot)

        await checker.check(wait.created_at + dt.timedelta(minutes=10))
        await checker.check(wait.created_at + dt.timedelta(minutes=16))
        await checker.check(wait.created_at + dt.timedelta(minutes=20))
        await bot.idle()
        reminders = [p for p in bot.platform.in_thread("t1") if p.text.startswith("Reminder:")]
        assert [p.text for p in reminders] == ["Reminder: the team is waiting for an answer (14m left)."]

        await checker.check(wait.created_at + dt.timedelta(minutes=31))
        await bot.idle()
        texts = [p.text for p in bot.platform.in_thread("t1")]
        assert "Nobody answered within 30m: the team goes on without an answer." in texts
        assert wait.id not in {w.id for w in await bot.db.stores.waits.open_waits()}
        async with bot.db.connect() as conn:
            from sqlalchemy import select

            from storage.schema import waits

            row = (await conn.execute(select(waits).where(waits.c.id == wait.id))).one()
        assert (row.answer, row.answered_by) == ("(continue)", "threadcrew:timeout")
        # The team went on after the note: its next messages follow it.
        note_at = texts.index("Nobody answered within 30m: the team goes on without an answer.")
        assert len(texts) > note_at + 1


async def test_an_unanswered_question_stops_the_run_when_the_team_says_so(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with crew_bot(server, tmp_path, timeouts={"question": {"after": "1h", "then": "stop"}}) as bot:
        await bot.platform.mention("t1", "chart the squares")
        await bot.platform.wait_for(in_thread("t1"))
        [wait] = await bot.db.stores.waits.open_waits()
        await timeouts_of(bot).check(wait.created_at + dt.timedelta(minutes=61))
        await bot.idle()
        texts = [p.text for p in bot.platform.in_thread("t1")]
        assert texts[-2:] == ["Nobody answered within 1h: the run stops.", "Stopped by the timeout."]
        assert (await bot.conversation("t1")).status not in ("running", "waiting")
        assert await bot.db.stores.waits.open_waits() == []
        # A late timeout for the same wait (another process) changes nothing.
        await bot.dispatcher.expire_wait(bot.platform.thread("t1"), wait.id, "stop")
        await bot.idle()
        assert [p.text for p in bot.platform.in_thread("t1")] == texts


async def test_a_scheduled_run_on_slack_opens_its_thread_in_the_channel(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with two_platforms(server, tmp_path) as both:
        dispatcher = both.bot.dispatcher
        assert dispatcher is not None
        row = await both.db.stores.schedules.add(
            "digest",
            team="crew",
            platform="slack",
            workspace_id="",
            channel_id="C7",
            every_seconds=1800,
            message="digest",
        )
        scheduler = Scheduler(dispatcher.rt.db, dispatcher_start(dispatcher))
        [fired] = await scheduler.run_due(row.created_at + dt.timedelta(minutes=31))
        assert fired.at == row.created_at + dt.timedelta(minutes=30)
        opening = next(p for p in both.slack.posted if p.channel == "C7" and p.thread_ts is None)
        assert opening.blocks[0]["text"] == "Scheduled run digest: digest"
        await both.slack.wait_for(lambda s: any(WAITING in p.text for p in s.in_thread("C7", opening.ts)))
        assert [p.username for p in both.slack.in_thread("C7", opening.ts)][-4:] == [
            "Plan Bot",
            "coder",
            "reviewer",
            "threadcrew",
        ]


async def test_an_approval_nobody_gives_is_denied_even_where_only_approvers_may_answer(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    model.after.update({"coder": "runner", "runner": "reviewer"})
    model.say("coder", "Here it is:\n```python\nopen('result.txt', 'w').write('x')\n```")
    timeouts = {"approval": {"after": "1h", "then": "deny"}}
    async with crew_bot(server, tmp_path, approvers=["bob"], timeouts=timeouts) as bot:
        await bot.platform.mention("t1", "compute six times seven")
        await bot.platform.wait_for(lambda posts: bool(posts) and bool(posts[-1].message.buttons))
        [wait] = await bot.db.stores.waits.open_waits()
        assert wait.kind == "approval"
        # Someone who calls themselves the timeout is not the timeout.
        await bot.platform.press("t1", "reject", str(wait.id), who="threadcrew:timeout")
        await bot.platform.wait_for(lambda posts: posts[-1].message.ephemeral_for == "threadcrew:timeout")
        assert bot.platform.posts[-1].text == "You are not allowed to approve or reject this."
        await timeouts_of(bot).check(wait.created_at + dt.timedelta(minutes=59))
        assert await bot.db.stores.waits.open_waits() == [wait]  # not yet

        await timeouts_of(bot).check(wait.created_at + dt.timedelta(minutes=60))
        await bot.platform.wait_for(in_thread("t1"))
        posts = bot.platform.in_thread("t1")
        assert "Nobody answered within 1h: it is denied." in [p.text for p in posts]
        ran = next(p for p in posts if p.author == "runner" and p.text.startswith("Did not run"))
        assert "rejected by the timeout" in ran.text
        assert not list((tmp_path / "data" / "work").rglob("result.txt"))


async def test_the_slack_slash_command_adds_a_schedule_for_the_linked_channel(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with two_platforms(server, tmp_path) as both:
        text = 'schedule add "0 9 * * 1-5" tz=Europe/Paris standup <#C7|eng> Summarise yesterday'
        status, _ = await both.sender.command(command_fields(text, user="UCAROL", channel="C1"))
        assert status == 200
        await both.slack.wait_for(lambda s: any(p.ephemeral_for == "UCAROL" for p in s.posted))
        [answer] = [p.blocks[0]["text"] for p in both.slack.posted if p.ephemeral_for == "UCAROL"]
        assert answer.startswith("Added: standup (on): 0 9 * * 1-5 (Europe/Paris), team crew, in slack C7, next ")
        row = await both.db.stores.schedules.get("standup")
        assert (row.platform, row.workspace_id, row.channel_id, row.source) == ("slack", "T1", "C7", "chat")

        # A channel the bot is not in: refused, with how to invite it.
        both.slack.not_member.add("C8")
        both.slack.channel_names["C8"] = "eng"
        text = "schedule add every 2h digest <#C8|eng> What changed?"
        status, _ = await both.sender.command(command_fields(text, user="UBOB", channel="C1"))
        assert status == 200
        await both.slack.wait_for(lambda s: any(p.ephemeral_for == "UBOB" for p in s.posted))
        [refused] = [p.blocks[0]["text"] for p in both.slack.posted if p.ephemeral_for == "UBOB"]
        assert refused == "Not done: I am not in #eng: invite me there with /invite @threadcrew (typed in #eng)"
        assert [s.name for s in await both.db.stores.schedules.list()] == ["standup"]


async def test_the_same_words_said_to_the_bot_in_a_thread_manage_schedules_and_start_no_run(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    async with crew_bot(server, tmp_path) as bot:
        # Chat apps curl the quotes people type.
        await bot.platform.mention("t1", "schedule add \u201c0 9 * * 1-5\u201d tz=Europe/Paris standup here Summarise")
        await bot.platform.wait_for(lambda posts: len(posts) == 1)
        [answer] = bot.platform.posts
        assert answer.message.ephemeral_for == "alice"
        assert answer.thread.thread_id == "t1"
        assert answer.text.startswith("Added: standup (on): 0 9 * * 1-5 (Europe/Paris), team crew, in memory C1")
        await bot.platform.mention("t1", "schedule pause standup")
        await bot.platform.wait_for(lambda posts: len(posts) == 2)
        assert bot.platform.posts[1].text == "Paused the schedule standup."
        bot.platform.absent_from.add("C8")
        await bot.platform.mention("t1", "schedule add every 1h digest <#C8|eng> What changed?")
        await bot.platform.wait_for(lambda posts: len(posts) == 3)
        assert bot.platform.posts.pop().text == "Not done: I am not in channel C8: add me to it, then try again"
        # /threadcrew schedule typed in a thread (as Discord sends it) is the channel's command too.
        typed = ThreadEvent(
            "command", bot.platform.thread("t1"), Author("bob", "bob"), "in-t1", "list", command="schedule"
        )
        await bot.platform.deliver(typed)
        await bot.platform.wait_for(lambda posts: len(posts) == 3)
        assert bot.platform.posts[2].text.startswith("• standup (paused): 0 9 * * 1-5 (Europe/Paris)")
        assert bot.platform.posts[2].message.ephemeral_for == "bob"
        await bot.idle()
        assert await bot.db.stores.conversations.find("memory", "W1", "C1", "t1") is None
        assert model.requests == []
        # A task that merely begins with the word still starts a run.
        await bot.platform.mention("t2", "schedule a meeting about the squares")
        await bot.platform.wait_for(in_thread("t2"))


async def test_a_deadline_that_passed_while_the_bot_was_down_is_acted_on_after_the_restart(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    timeouts = {"question": {"after": "30m", "then": "stop"}}
    async with crew_bot(server, tmp_path, timeouts=timeouts) as bot:
        await bot.platform.mention("t1", "chart the squares")
        await bot.platform.wait_for(in_thread("t1"))
        [wait] = await bot.db.stores.waits.open_waits()
    # The bot is down; the deadline passes; a new process starts on the same database.
    async with crew_bot(server, tmp_path, timeouts=timeouts) as bot:
        assert await bot.db.stores.waits.open_waits() == [wait]  # the row, and its deadline, are kept
        assert wait.expires_at is not None
        [decision] = await timeouts_of(bot).check(wait.expires_at + dt.timedelta(hours=5))
        await bot.idle()
        assert decision.note == "Nobody answered within 30m: the run stops."
        assert [p.text for p in bot.platform.in_thread("t1")] == [decision.note, "Stopped by the timeout."]
        assert await bot.db.stores.waits.open_waits() == []
