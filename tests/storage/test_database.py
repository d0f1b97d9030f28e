"""Database URLs, migrations, and the start-up check."""

from __future__ import annotations

import asyncio
import gc
import warnings
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from storage import (
    Database,
    DatabaseBehindError,
    StorageError,
    UnsupportedDatabaseError,
    check_schema,
    current_revision,
    database_url,
    head_revision,
    upgrade,
)
from storage.schema import metadata, ours


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite"),
        ("postgresql://u@h/db", "postgresql+asyncpg"),
        ("postgres://u@h/db", "postgresql+asyncpg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
    ],
)
def test_urls_get_the_async_driver(url: str, driver: str) -> None:
    assert database_url(url).drivername == driver


@pytest.mark.parametrize("url", ["mysql://u@h/db", "mongodb://h/db", "not a url"])
def test_an_unsupported_url_lists_the_supported_ones(url: str) -> None:
    with pytest.raises(UnsupportedDatabaseError, match=r"use sqlite:///path/to/file\.db, postgresql://"):
        database_url(url)


async def test_upgrade_from_empty_reaches_the_newest_migration(tmp_path: Path) -> None:
    async with Database(f"sqlite:///{tmp_path / 'new.db'}") as db:
        assert await current_revision(db) is None
        with pytest.raises(DatabaseBehindError, match=r"is empty.*run `threadcrew db upgrade`"):
            await check_schema(db)
        await upgrade(db)
        assert await current_revision(db) == head_revision()
        await check_schema(db)
        await upgrade(db)  # a second run changes nothing
        assert await current_revision(db) == head_revision()


async def test_upgrade_from_empty_on_postgresql(fresh_postgres: str) -> None:
    async with Database(fresh_postgres) as db:
        await upgrade(db)
        await check_schema(db)
        async with db.connect() as conn:
            tables = set(
                (await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))).scalars()
            )
    assert {
        "conversations",
        "messages",
        "waits",
        "processed_events",
        "schedules",
        "llm_cache",
        "usage",
        "slack_installations",
        "slack_bots",
        "alembic_version",
    } <= tables
    assert "leases" not in tables  # nothing took a lease: the work queue holds a thread (0010_queue_no_leases)


async def test_a_database_behind_the_code_is_named_with_the_command_to_run(database_url: str) -> None:
    async with Database(database_url) as db:
        async with db.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
        with pytest.raises(DatabaseBehindError) as caught:
            await check_schema(db)
    message = str(caught.value)
    assert "is at migration 0000" in message
    assert f"needs migration {head_revision()}" in message
    assert "run `threadcrew db upgrade`" in message


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    async with Database(f"sqlite:///{tmp_path / 'wal.db'}") as db, db.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1


async def test_close_waits_for_a_read_under_way_and_leaves_no_connection_open(database_url: str) -> None:
    """A read still holding its connection when the engine was disposed returned it to the old
    pool, where it stayed open until collected (aiosqlite's ResourceWarning, a flaky test failure).
    """
    db = Database(database_url)
    reading, finish = asyncio.Event(), asyncio.Event()

    async def read() -> int:
        async with db.connect() as conn:
            reading.set()
            await finish.wait()
            return int((await conn.execute(text("SELECT 2"))).scalar_one())

    reader = asyncio.create_task(read())
    await reading.wait()
    closing = asyncio.create_task(db.close())
    await asyncio.sleep(0)  # one turn of the loop (no time passes): close() starts while the read is under way
    assert not closing.done(), "close() did not wait for the read under way"
    finish.set()
    assert await reader == 2
    await closing
    del reader
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


async def test_a_closed_database_refuses_reads_and_writes_with_a_clear_error(database_url: str) -> None:
    """What reads after close() would open a connection from a fresh pool that nothing closes."""
    db = Database(database_url)
    await db.ping()
    await db.close()
    with pytest.raises(StorageError, match=r"is closed: a read or write came after Database\.close\(\)"):
        await db.ping()
    with pytest.raises(StorageError, match="is closed"):
        async with db.begin():
            pass
    with pytest.raises(StorageError, match="is closed"):
        await db.write(lambda conn: conn.execute(text("SELECT 1")))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_the_password_stays_out_of_messages() -> None:
    db = Database("postgresql://threadcrew:s3cret@db.example/threadcrew")
    assert "s3cret" not in db.safe_url


async def test_the_psycopg_driver_runs_the_stores_too(fresh_postgres: str) -> None:
    from sqlalchemy import make_url

    from storage import NewMessage

    url = make_url(fresh_postgres).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    async with Database(url) as db:
        assert db.url.drivername == "postgresql+psycopg"
        await upgrade(db)
        await check_schema(db)
        thread = await db.stores.conversations.get_or_create("slack", "T1", "C1", "t", team="dev")
        stored = await db.stores.messages.append_many(
            thread.id, [NewMessage(role="user", content="a"), NewMessage(role="assistant", content="b")]
        )
        assert [m.seq for m in stored] == [1, 2]
        assert await db.stores.events.claim("slack", "Ev1") is True
        assert await db.stores.events.claim("slack", "Ev1") is False


@pytest.mark.usefixtures("database_url")
async def test_the_migrations_make_exactly_the_schema_the_code_declares(request: pytest.FixtureRequest) -> None:
    async with Database(request.getfixturevalue("database_url")) as db:  # at the newest migration

        def differences(connection: Any) -> list[Any]:
            # procrastinate's own tables (the job queue on PostgreSQL) are excluded explicitly, and only they
            context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": ours})
            return compare_metadata(context, metadata)

        async with db.connect() as conn:
            assert await conn.run_sync(differences) == []
