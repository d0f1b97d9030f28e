"""The whole bot, started on a database where time moved on while it was down: its scheduler fires
what was missed (once, coalesced) and acts on the deadlines that passed, before anyone asks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from storage import Database
from storage.schema import waits
from tests.bot.crew import Crew, crew_bot, in_thread, settings_for
from tests.fakes.openai_server import ScriptedOpenAI


@pytest.fixture
def server() -> Iterator[ScriptedOpenAI]:
    with ScriptedOpenAI(responder=Crew()) as server:
        yield server


def ago(**span: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(**span)


async def test_fires_missed_while_the_bot_was_down_run_once_when_it_starts(
    server: ScriptedOpenAI, tmp_path: Path
) -> None:
    async with crew_bot(server, tmp_path):
        pass  # the database, made and migrated by the bot
    # Made two hours (and a minute) ago, hourly: two fires passed while the bot was down.
    url = settings_for(tmp_path / "data").effective_database_url
    async with Database(url, clock=lambda: ago(hours=2, minutes=1)) as past:
        await past.stores.schedules.add(
            "digest", team="crew", platform="memory", workspace_id="W1", channel_id="C1", every_seconds=3600,
            message="what changed?",
        )  # fmt: skip
    async with crew_bot(server, tmp_path) as bot:
        opening = await bot.platform.wait_for(bool)
        assert opening[0].text == "Scheduled run digest: what changed?"
        thread = opening[0].thread.thread_id
        await bot.platform.wait_for(in_thread(thread))  # the team ran there, and asks the people
        await bot.idle()
        openings = [p for p in bot.platform.posts if p.text.startswith("Scheduled run")]
        assert len(openings) == 1  # the two missed fires coalesced into one run
        row = await bot.db.stores.schedules.get("digest")
        assert row.last_run_at is not None
        assert ago(minutes=2) < row.last_run_at < ago(seconds=0)  # the latest missed fire, a minute ago


async def test_a_deadline_that_passed_while_the_bot_was_down_is_acted_on_when_it_starts(
    server: ScriptedOpenAI, tmp_path: Path
) -> None:
    timeouts = {"question": {"after": "30m", "then": "stop"}}
    async with crew_bot(server, tmp_path, timeouts=timeouts) as bot:
        await bot.platform.mention("t1", "chart the squares")
        await bot.platform.wait_for(in_thread("t1"))
        [wait] = await bot.db.stores.waits.open_waits()
        # Two hours pass with the bot down: the wait opened then, its deadline 30 minutes later.
        async with bot.db.connect() as conn:
            moved = {"created_at": ago(hours=2), "expires_at": ago(hours=1, minutes=30)}
            await conn.execute(update(waits).where(waits.c.id == wait.id).values(**moved))
            await conn.commit()
        await bot.platform.close()  # stops the bot; the next one starts on the same database
    async with crew_bot(server, tmp_path, timeouts=timeouts) as bot:
        await bot.platform.wait_for(lambda posts: any(p.text == "Stopped by the timeout." for p in posts))
        await bot.idle()
        assert [p.text for p in bot.platform.in_thread("t1")] == [
            "Nobody answered within 30m: the run stops.",
            "Stopped by the timeout.",
        ]
        assert await bot.db.stores.waits.open_waits() == []
