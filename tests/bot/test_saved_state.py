"""A thread's run state is stored by what each step changed; states stored whole still load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update

from storage import Database
from storage.schema import conversations, state_changes
from tests.bot.crew import DONE, Crew, authors, crew_bot, last_starts, until_waiting
from tests.fakes.openai_server import ScriptedOpenAI


async def changes_of(db: Database, conversation_id: int) -> list[dict[str, Any]]:
    query = (
        select(state_changes.c.changes)
        .where(state_changes.c.conversation_id == conversation_id)
        .order_by(state_changes.c.version)
    )
    async with db.connect() as conn:
        return list((await conn.execute(query)).scalars())


async def raw_state(db: Database, conversation_id: int) -> Any:
    async with db.connect() as conn:
        query = select(conversations.c.state).where(conversations.c.id == conversation_id)
        return (await conn.execute(query)).scalar_one()


async def test_each_save_stores_what_the_step_added_once_not_the_whole_state(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with crew_bot(server, tmp_path) as bot:
        await until_waiting(bot)
        record = await bot.conversation("t1")
        rows = await changes_of(bot.db, record.id)
        raw = json.dumps(await raw_state(bot.db, record.id))

    assert "coder on 'chart the squares'" not in raw  # the state row holds no message
    assert len(rows) == 4  # the start, planner, coder, reviewer (whose question opens the wait)
    coder = rows[2]
    said = [item for item in coder["items"] if item.get("content") == "coder on 'chart the squares'"]
    # The copies the manager and each agent keep are stored as the forms they differ in (roles), once each.
    assert 1 <= len(said) <= 3
    assert len(coder["items"]) == len(said)
    kept = {key: keep for key, (keep, _) in coder["lists"].items()}
    assert all(keep > 0 for keep in kept.values()), "a list was stored whole again"
    # What the stores hand out is the whole state, as the run wrote it.
    transcript = record.state["run"]["agents"]["chat_manager"]["groupchat_messages"]
    assert [m["content"] for m in transcript][1:3] == ["planner on 'chart the squares'", "coder on 'chart the squares'"]


async def test_a_state_stored_whole_by_an_older_threadcrew_goes_on_after_a_restart(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with crew_bot(server, tmp_path) as bot:
        await until_waiting(bot)
        record = await bot.conversation("t1")
    whole = {k: v for k, v in record.state.items() if k != "lists"}  # as threadcrew stored it before 0006
    async with Database(f"sqlite:///{tmp_path / 'data' / 'threadcrew.db'}") as db, db.begin() as conn:
        await conn.execute(delete(state_changes))
        await conn.execute(update(conversations).values(state=whole))

    async with crew_bot(server, tmp_path) as bot:
        await bot.platform.say("t1", "yes, ship it")
        await bot.platform.wait_for(last_starts(DONE))
        assert authors(bot.platform.posts) == ["planner", "coder", "reviewer"]
        stored = await bot.transcript("t1")
        assert [m.author_id for m in stored][4:] == [None, "alice", "planner", "coder", "reviewer"]
        rows = await changes_of(bot.db, record.id)
    assert rows[0]["lists"]
    assert all(keep == 0 for keep, _ in rows[0]["lists"].values())  # stored whole, once
    assert all(keep > 0 for row in rows[1:] for keep, _ in row["lists"].values())
