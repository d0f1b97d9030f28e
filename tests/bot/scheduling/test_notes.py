"""The timeouts' notes go through the outbox: stored as messages of the conversation (a timeout's
with the wait's answer), posted once, also when the process dies between storing and posting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.scheduling import WaitTimeouts
from bot.scheduling.service import dispatcher_expire
from tests.bot.crew import Crew, RunningBot, crew_bot, in_thread
from tests.bot.test_threads import FailingPosts
from tests.fakes.openai_server import ScriptedOpenAI

REMINDER = "Reminder: the team is waiting for an answer (14m left)."
TIMED_OUT = "Nobody answered within 30m: the team goes on without an answer."
TIMEOUTS = {"question": {"after": "30m", "then": "continue", "remind": True}}


@pytest.fixture
def server() -> Iterator[ScriptedOpenAI]:
    with ScriptedOpenAI(responder=Crew()) as server:
        yield server


def timeouts_of(bot: RunningBot) -> WaitTimeouts:
    rt = bot.dispatcher.rt
    return WaitTimeouts(rt.db, rt.catalog.timeouts, dispatcher_expire(bot.dispatcher))


@pytest.mark.parametrize("after_posting", [False, True], ids=["post-failed", "post-went-out-unconfirmed"])
async def test_a_note_stored_but_not_posted_before_a_crash_is_posted_once_after_the_restart(
    server: ScriptedOpenAI, tmp_path: Path, after_posting: bool
) -> None:
    platform = FailingPosts(4, after_posting=after_posting)  # the notes come after the run's first 4 posts
    async with crew_bot(server, tmp_path, platform, timeouts=TIMEOUTS) as bot:
        await bot.platform.mention("t1", "chart the squares")
        await bot.platform.wait_for(in_thread("t1"))
        [wait] = await bot.db.stores.waits.open_waits()
        checker = timeouts_of(bot)
        assert [d.note for d in await checker.check(wait.created_at + dt.timedelta(minutes=16))] == [REMINDER]
        await bot.idle()
        # Stored as a message of the conversation before any post was tried.
        [stored] = await bot.db.stores.messages.outbox()
        assert (stored.content, stored.author_kind) == (REMINDER, "system")
        assert [d.note for d in await checker.check(wait.created_at + dt.timedelta(minutes=31))] == [TIMED_OUT]
        await bot.idle()
        # Checked again (the next round, another process): taken already, nothing more.
        assert await checker.check(wait.created_at + dt.timedelta(minutes=32)) == []
        await bot.idle()
    platform.failing = False

    async with crew_bot(server, tmp_path, platform, timeouts=TIMEOUTS) as bot:
        await bot.platform.wait_for(lambda posts: [p.text for p in posts].count(TIMED_OUT) == 1)
        await bot.idle()
        assert (await bot.conversation("t1")).status == "finished"  # the team went on without an answer
        texts = [p.text for p in platform.in_thread("t1")]
        assert texts.count(REMINDER) == 1
        assert texts.count(TIMED_OUT) == 1
        assert texts.index(REMINDER) < texts.index(TIMED_OUT)
        assert await bot.db.stores.messages.outbox() == []
        first = (await bot.db.stores.waits.of_conversation((await bot.conversation("t1")).id))[0]
        assert (first.id, first.answer, first.answered_by) == (wait.id, "(continue)", "threadcrew:timeout")


async def test_a_reminder_for_a_wait_answered_meanwhile_is_not_posted(server: ScriptedOpenAI, tmp_path: Path) -> None:
    async with crew_bot(server, tmp_path, timeouts=TIMEOUTS) as bot:
        await bot.platform.mention("t1", "chart the squares")
        await bot.platform.wait_for(in_thread("t1"))
        [wait] = await bot.db.stores.waits.open_waits()
        checker = timeouts_of(bot)
        await bot.platform.say("t1", "yes, ship it")
        # A check that read the wait as open just before the answer came acts on it anyway.
        await bot.dispatcher.expire_wait(bot.platform.thread("t1"), wait.id, "remind", REMINDER)
        await bot.idle()
        assert REMINDER not in [p.text for p in bot.platform.in_thread("t1")]
        assert await checker.check(wait.created_at + dt.timedelta(minutes=31)) == []
        assert await bot.db.stores.messages.outbox() == []
