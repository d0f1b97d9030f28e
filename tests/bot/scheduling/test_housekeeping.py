"""Housekeeping on a fake clock: old event keys, old cached responses, finished conversations' work dirs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.scheduling import Housekeeping
from storage import Database
from tests.bot.scheduling.conftest import FakeClock


async def test_old_rows_and_finished_work_dirs_go_and_the_rest_stays(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    stores = db.stores
    await stores.events.claim("memory", "event:old")
    await stores.llm_cache.set("old", {"x": 1})
    finished = await stores.conversations.get_or_create("memory", "W1", "C1", "t1", team="crew")
    await stores.conversations.set_status(finished.id, "finished")
    running = await stores.conversations.get_or_create("memory", "W1", "C1", "t2", team="crew")
    await stores.conversations.set_status(running.id, "running")
    work = tmp_path / "work"
    for name in (f"conversation-{finished.id}", f"conversation-{running.id}", "conversation-999", "keep-me"):
        (work / name).mkdir(parents=True)
        (work / name / "plot.png").write_bytes(b"png")

    clock.advance(days=8)
    await stores.events.claim("memory", "event:new")
    await stores.llm_cache.set("new", {"x": 2})
    keeper = Housekeeping(db, work, event_retention=dt.timedelta(days=7), cache_retention=dt.timedelta(days=7))
    swept = await keeper.sweep()

    assert (swept.event_keys, swept.cache_entries) == (1, 1)
    assert sorted(swept.work_dirs) == sorted([f"conversation-{finished.id}", "conversation-999"])
    assert sorted(p.name for p in work.iterdir()) == [f"conversation-{running.id}", "keep-me"]
    assert await stores.events.claim("memory", "event:old")  # forgotten
    assert not await stores.events.claim("memory", "event:new")
    assert await stores.llm_cache.get("old") is None
    assert await stores.llm_cache.get("new") == {"x": 2}
    assert (await keeper.sweep()).work_dirs == []
