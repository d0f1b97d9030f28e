"""A state's message lists, stored by what each save changed (on SQLite and on PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, select

from storage import ConflictError, Database, ListChanges, list_ref, upgrade
from storage.migrate import alembic_config
from storage.schema import state_changes

THREAD = ("slack", "T1", "C1", "1700000000.000100")


def state(round_: int) -> dict[str, Any]:
    return {"round": round_, "agents": {"a": {"messages": {"b": list_ref("a>b")}}, "transcript": list_ref("t")}}


async def rows(db: Database, conversation_id: int) -> int:
    query = select(func.count()).select_from(state_changes).where(state_changes.c.conversation_id == conversation_id)
    async with db.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


async def test_a_state_is_handed_out_whole_from_the_changes_of_each_save(db: Database) -> None:
    convs = db.stores.conversations
    record = await convs.get_or_create(*THREAD, team="dev")
    hi, ok = {"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}
    first = ListChanges([hi], {"a>b": (0, [0]), "t": (0, [0])}, whole=True)
    record, _ = await convs.save_step(record.id, state(1), expected_version=0, changes=first)
    assert record.state == state(1)  # as given: the references in place
    second = ListChanges([ok, {"role": "user", "content": "ok"}], {"a>b": (1, [0]), "t": (1, [1, 1])})
    record, _ = await convs.save_step(record.id, state(2), expected_version=1, changes=second)
    replaced = ListChanges([{"role": "user", "content": "again"}], {"t": (2, [0])})
    await convs.save_step(record.id, state(3), expected_version=2, changes=replaced)

    transcript = [hi, {"role": "user", "content": "ok"}, {"role": "user", "content": "again"}]
    whole = {"round": 3, "agents": {"a": {"messages": {"b": [hi, ok]}}, "transcript": transcript}}
    assert (await convs.get(record.id)).state == whole
    found = await convs.find(*THREAD)
    assert found is not None
    assert found.state == whole
    assert [r.state for r in await convs.listing()] == [whole]
    assert [r.state for r in await convs.list_active()] == []  # no status given: still "new"
    assert await rows(db, record.id) == 3


async def test_a_whole_set_of_lists_lets_the_earlier_changes_go(db: Database) -> None:
    convs = db.stores.conversations
    record = await convs.get_or_create(*THREAD, team="dev")
    for version in range(3):
        changes = ListChanges([{"n": version}], {"t": (version, [0])})
        record, _ = await convs.save_step(record.id, {"t": list_ref("t")}, expected_version=version, changes=changes)
    assert (await convs.get(record.id)).state == {"t": [{"n": 0}, {"n": 1}, {"n": 2}]}
    restart = ListChanges([{"n": 9}], {"t": (0, [0])}, whole=True)
    await convs.save_step(record.id, {"t": list_ref("t")}, expected_version=3, changes=restart)
    assert (await convs.get(record.id)).state == {"t": [{"n": 9}]}
    assert await rows(db, record.id) == 1


async def test_a_state_saved_with_its_lists_inline_is_handed_out_as_it_is(db: Database) -> None:
    convs = db.stores.conversations
    record = await convs.get_or_create(*THREAD, team="dev")
    inline = {"run": {"agents": {"a": {"messages": {"b": [{"role": "user", "content": "hi"}]}}}}}
    await convs.save_state(record.id, inline, expected_version=0, status="running")
    assert (await convs.get(record.id)).state == inline
    assert [r.state for r in await convs.list_active()] == [inline]


async def test_a_refused_save_stores_no_changes(db: Database) -> None:
    convs = db.stores.conversations
    record = await convs.get_or_create(*THREAD, team="dev")
    changes = ListChanges([{"n": 1}], {"t": (0, [0])}, whole=True)
    await convs.save_step(record.id, {"t": list_ref("t")}, expected_version=0, changes=changes)
    stale = ListChanges([{"n": 2}], {"t": (1, [0])})
    with pytest.raises(ConflictError, match="saved by someone else"):
        await convs.save_step(record.id, {"t": list_ref("t")}, expected_version=0, changes=stale)
    assert (await convs.get(record.id)).state == {"t": [{"n": 1}]}


async def test_a_downgrade_puts_the_lists_back_into_the_states(tmp_path: Path) -> None:
    async with Database(f"sqlite:///{tmp_path / 'down.db'}") as db:
        await upgrade(db)
        convs = db.stores.conversations
        record = await convs.get_or_create(*THREAD, team="dev")
        changes = ListChanges([{"n": 1}], {"t": (0, [0, 0])}, whole=True)
        await convs.save_step(record.id, {"t": list_ref("t"), "k": 1}, expected_version=0, changes=changes)
        config = alembic_config(db)

        def down(connection: Any) -> None:
            config.attributes["connection"] = connection
            command.downgrade(config, "0008_the_job_queue")

        async with db.begin() as conn:
            await conn.run_sync(down)
            stored = (await conn.exec_driver_sql("SELECT state FROM conversations")).scalar_one()
        assert stored in ('{"t": [{"n": 1}, {"n": 1}], "k": 1}', {"t": [{"n": 1}, {"n": 1}], "k": 1})
        await upgrade(db)
        assert (await convs.get(record.id)).state == {"t": [{"n": 1}, {"n": 1}], "k": 1}
