"""The runtime: several platforms in one process, its web server's health endpoints, runs
started without a platform event, and waits as rows that match the stored states."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from adapters import Capabilities, InMemoryPlatform
from adapters.slack import SlackPlatform
from bot.app import Bot
from bot.teams import TeamCatalog
from storage import Database, NewMessage
from tests.bot.crew import DONE, Crew, authors, crew_bot, in_thread, last_starts, settings_for, write_team
from tests.fakes.openai_server import ScriptedOpenAI
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackSender, event_body

ROOT_TS = "1700000000.000100"
WAITING = "The team is waiting for you"


@dataclasses.dataclass
class TwoPlatforms:
    bot: Bot
    slack: FakeSlack
    memory: InMemoryPlatform
    sender: SlackSender
    db: Database

    @property
    def url(self) -> str:
        assert self.bot.web is not None
        return self.bot.web.url


@asynccontextmanager
async def two_platforms(server: ScriptedOpenAI, tmp_path: Path) -> AsyncIterator[TwoPlatforms]:
    """One bot process serving Slack (HTTP mode, on the bot's web server) and the in-memory platform."""
    catalog = TeamCatalog()
    catalog.add_file(write_team(tmp_path / "crew.yaml", server.base_url), default=True)
    settings = settings_for(tmp_path / "data").model_copy(update={"health": True})
    async with FakeSlack() as slack:
        memory = InMemoryPlatform()
        bot = Bot(settings, [SlackPlatform(slack.http_config()), memory], catalog)
        task = asyncio.create_task(bot.run())
        await asyncio.wait_for(bot.started.wait(), 20)
        assert bot.web is not None
        sender = SlackSender(f"{bot.web.url}/slack/events")
        db = Database(settings.effective_database_url)
        try:
            yield TwoPlatforms(bot, slack, memory, sender, db)
        finally:
            await sender.close()
            await db.close()
            await bot.close()
            await task


async def slack_mention(sender: SlackSender, text: str, ts: str = ROOT_TS) -> None:
    event = {"type": "app_mention", "user": "UALICE", "text": f"<@UBOT> {text}", "ts": ts, "channel": "C1"}
    assert (await sender.event(event_body(event)))[0] == 200


async def assert_waits_match_states(db: Database) -> None:
    """The open rows in ``waits`` are exactly the waits the stored states refer to."""
    referred = {
        c.state["wait_id"]
        for c in await db.stores.conversations.recent(1000)
        if c.state and c.state.get("wait_id") is not None
    }
    assert {w.id for w in await db.stores.waits.open_waits()} == referred


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def test_one_process_serves_slack_over_http_and_the_memory_platform(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with two_platforms(server, tmp_path) as both:
        await slack_mention(both.sender, "chart the squares")
        await both.memory.mention("t1", "count the words")
        await both.memory.wait_for(in_thread("t1"))
        await both.slack.wait_for(lambda s: any(WAITING in p.text for p in s.in_thread("C1", ROOT_TS)))

        # Each thread's posts went to its own platform.
        assert authors(both.memory.posts) == ["planner", "coder", "reviewer", "threadcrew"]
        assert all("count the words" in p.text for p in both.memory.posts[:3])
        in_slack = both.slack.in_thread("C1", ROOT_TS)
        assert [p.username for p in in_slack] == ["Plan Bot", "coder", "reviewer", "threadcrew"]
        assert all("chart the squares" in p.text for p in in_slack[:3])
        assert not any("count the words" in p.text for p in both.slack.posted)

        # Both waits are rows, of the right kind, and the states refer to them.
        waits = await both.db.stores.waits.open_waits()
        assert sorted(w.kind for w in waits) == ["question", "question"]
        await assert_waits_match_states(both.db)

        assert await get(f"{both.url}/healthz") == (200, "ok\n")
        assert await get(f"{both.url}/readyz") == (200, "ready\n")
        both.memory.connection_lost = True
        assert await get(f"{both.url}/readyz") == (503, "memory: not connected\n")


async def test_a_run_started_without_an_event_runs_in_a_new_thread_on_each_platform(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    async with two_platforms(server, tmp_path) as both:
        dispatcher = both.bot.dispatcher
        assert dispatcher is not None
        on_memory = await dispatcher.start_run("memory", "W1", "C1", "summarise the week")

        # The memory platform opened a thread with the task; the team ran in it and waits for people.
        await both.memory.wait_for(in_thread(on_memory.thread_id))
        posts = both.memory.in_thread(on_memory.thread_id)
        assert posts[0].text == "summarise the week"
        assert authors(posts) == ["threadcrew", "planner", "coder", "reviewer", "threadcrew"]
        model.say("reviewer", DONE)
        await both.memory.say(on_memory.thread_id, "fine, finish it", who="bob")
        await both.memory.wait_for(last_starts(DONE))

        # On Slack: the opening went to the channel, the team's messages into its thread.
        on_slack = await dispatcher.start_run("slack", "", "C7", "summarise the week", opening="Weekly summary")
        assert on_slack.workspace_id == "T1"  # the bot token's own workspace (auth.test)
        await both.slack.wait_for(lambda s: any(WAITING in p.text for p in s.in_thread("C7", on_slack.thread_id)))
        opening = next(p for p in both.slack.posted if p.ts == on_slack.thread_id)
        assert opening.blocks[0]["text"] == "Weekly summary"
        assert opening.thread_ts is None  # in the channel, not in a thread
        assert [p.username for p in both.slack.in_thread("C7", on_slack.thread_id)][-4:] == [
            "Plan Bot",
            "coder",
            "reviewer",
            "threadcrew",
        ]
        # A person answers in the Slack thread; the run there goes on to its end as well.
        model.say("reviewer", DONE)
        reply = {"type": "message", "user": "UBOB", "text": "fine, finish it", "ts": "1800000000.000200"}
        reply |= {"thread_ts": on_slack.thread_id, "channel": "C7", "channel_type": "channel"}
        assert (await both.sender.event(event_body(reply)))[0] == 200
        await both.slack.wait_for(lambda s: any(DONE in p.text for p in s.in_thread("C7", on_slack.thread_id)))
        assert dispatcher is not None
        await dispatcher.wait_idle()
        on_slack_record = await both.db.stores.conversations.find("slack", "T1", "C7", on_slack.thread_id)
        assert on_slack_record is not None
        assert on_slack_record.status == "finished"
        finished = await both.db.stores.conversations.find("memory", "W1", "C1", on_memory.thread_id)
        assert finished is not None
        assert finished.status == "finished"
        stored = await both.db.stores.messages.list_since(finished.id)
        assert (stored[0].author_kind, stored[0].content) == ("human", "summarise the week")
        await assert_waits_match_states(both.db)


async def test_a_wait_row_records_who_answered_and_how(crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path) -> None:
    model, server = crew
    model.say("reviewer", "user, does this look right?", DONE)
    async with two_platforms(server, tmp_path) as both:
        await both.memory.mention("t1", "chart the squares")
        await both.memory.wait_for(in_thread("t1"))
        [wait] = await both.db.stores.waits.open_waits()
        await both.memory.say("t1", "yes, ship it", who="bob")
        await both.memory.wait_for(last_starts(DONE))
        assert await both.db.stores.waits.open_waits() == []
        record = await both.db.stores.conversations.find("memory", "W1", "C1", "t1")
        assert record is not None
        assert record.state is not None
        assert record.state["wait_id"] is None
        async with both.db.connect() as conn:
            from sqlalchemy import select

            from storage.schema import waits

            row = (await conn.execute(select(waits).where(waits.c.id == wait.id))).one()
        assert (row.answer, row.answered_by) == ("yes, ship it", "bob")
        assert row.answered_at is not None


async def test_the_runtime_adapts_to_what_a_platform_can_do(crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path) -> None:
    _, server = crew
    plain = InMemoryPlatform(capabilities=Capabilities(buttons=True))  # no typing, no private messages
    async with crew_bot(server, tmp_path, plain, starters=["bob"]):
        await plain.mention("t1", "chart the squares", who="alice")
        await plain.wait_for(last_starts("alice: You are not allowed to start a run"))
        await plain.mention("t2", "chart the squares", who="bob")
        await plain.wait_for(in_thread("t2"))
        assert plain.statuses == []  # it has no typing indicator: the runtime did not ask for one


async def test_a_mention_that_cannot_start_is_answered_and_stranded_work_is_swept_up(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "work").write_text("not a directory")  # the work dirs cannot be made
    async with crew_bot(server, tmp_path) as bot:
        await bot.platform.mention("t1", "chart the squares")
        await bot.platform.wait_for(last_starts("I could not start a run: the bot cannot prepare its work space"))
        await bot.idle()  # the thread's worker has ended: its work is no worker's now
        (tmp_path / "data" / "work").unlink()
        # A message stored but never posted (a crash, a refused post) is found by the sweep and posted.
        record = await bot.conversation("t1")
        left = NewMessage(role="assistant", content="left behind", name="planner")
        await bot.db.stores.messages.append(record.id, left)
        assert await bot.dispatcher.sweep() == 1
        await bot.platform.wait_for(last_starts("left behind"))
        await bot.idle()  # posted; now its mark is stored too
        assert await bot.db.stores.messages.outbox() == []
