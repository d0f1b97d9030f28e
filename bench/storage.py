"""Storage throughput: messages appended per second, and the outbox scan over 1M messages.

    python -m bench.storage [--messages 1000000] [--skip-postgres] [--rounds 3]

SQLite runs on a file in a temporary dir; PostgreSQL on a scratch database next to
``THREADCREW_TEST_POSTGRES_URL`` (default postgres@127.0.0.1:5432), dropped afterwards.

Each goal line (issue 16, goal 4) sets the figure beside a floor measured in the same run on the
same table, with the same durability: the bare driver (sqlite3, asyncpg) inserting the same
messages, one transaction per message for one writer and 100 messages a transaction (what a
perfect group commit would do) for 100 conversations.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import tempfile
import time
import uuid

import asyncpg
import psycopg
from sqlalchemy import make_url, text

from storage import Database, NewMessage, upgrade

ADMIN = os.environ.get("THREADCREW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

# The goals: appends/s with one writer and with 100 conversations writing (None: no goal).
GOALS = {"sqlite": (5_000, 10_000), "postgresql": (None, 5_000)}
FLOOR_ROWS = 2000
_RAW_INSERT = (
    "INSERT INTO messages (conversation_id, seq, role, author_kind, content, created_at) "
    "VALUES ({}, {}, 'user', 'human', {}, {})"
)


async def append_rate_one(db: Database, count: int) -> float:
    cid = (await db.stores.conversations.get_or_create("bench", "W", "C", "one", team="t")).id
    start = time.perf_counter()
    for i in range(count):
        await db.stores.messages.append(cid, NewMessage(role="user", content=f"message {i}"))
    return count / (time.perf_counter() - start)


async def append_rate_many(db: Database, conversations: int, each: int) -> float:
    ids = [
        (await db.stores.conversations.get_or_create("bench", "W", "C", f"t{i}", team="t")).id
        for i in range(conversations)
    ]

    async def writer(cid: int) -> None:
        for i in range(each):
            await db.stores.messages.append(cid, NewMessage(role="user", content=f"message {i}"))

    start = time.perf_counter()
    await asyncio.gather(*(writer(cid) for cid in ids))
    return conversations * each / (time.perf_counter() - start)


async def outbox_scan(db: Database, total: int, unposted: int = 100, runs: int = 20) -> float:
    """Fill the messages table to ``total`` rows, all posted but ``unposted``; median outbox(100) in ms."""
    cid = (await db.stores.conversations.get_or_create("bench", "W", "C", "big", team="t")).id
    posted_at = "'2026-01-01 00:00:00'"
    if db.dialect == "postgresql":
        fill = (
            "INSERT INTO messages (conversation_id, seq, role, author_kind, content, created_at, posted_at, "
            f"platform_message_id) SELECT {cid}, g, 'assistant', 'agent', 'stored reply ' || g, now(), "
            f"{posted_at}, g::text FROM generate_series(1, {total}) AS g"
        )
    else:
        fill = (
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :total) "
            "INSERT INTO messages (conversation_id, seq, role, author_kind, content, created_at, posted_at, "
            f"platform_message_id) SELECT {cid}, n, 'assistant', 'agent', 'stored reply ' || n, {posted_at}, "
            f"{posted_at}, n FROM g"
        )
    async with db.begin() as conn:
        await conn.execute(text(fill), {"total": total})
        # Every 10,000th message is still waiting to be posted.
        await conn.execute(
            text(
                f"UPDATE messages SET posted_at = NULL WHERE conversation_id = {cid} AND seq % {total // unposted} = 0"
            )
        )
        await conn.execute(text(f"UPDATE conversations SET last_seq = {total} WHERE id = {cid}"))
    if db.dialect == "postgresql":
        async with db.connect() as conn:
            await conn.execute(text("ANALYZE messages"))
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        found = await db.stores.messages.outbox(limit=100)
        timings.append((time.perf_counter() - start) * 1000)
        assert len(found) == unposted
    return statistics.median(timings)


def sqlite_floor(path: str, cid: int, per_transaction: int, first: int) -> float:
    """Bare sqlite3 inserts into the messages table (WAL, synchronous=NORMAL, as the store): rows/s."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
        conn.execute(f"PRAGMA {pragma}")
    insert = _RAW_INSERT.format("?", "?", "?", "?")
    rows = [(cid, first + i, f"message {i}", "2026-01-01 00:00:00.000000") for i in range(FLOOR_ROWS)]
    start = time.perf_counter()
    for at in range(0, FLOOR_ROWS, per_transaction):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(insert, rows[at : at + per_transaction])
        conn.execute("COMMIT")
    rate = FLOOR_ROWS / (time.perf_counter() - start)
    conn.close()
    return rate


async def postgres_floor(url: str, cid: int, per_transaction: int, first: int) -> float:
    """Bare asyncpg inserts into the messages table (fsync at commit, as the store): rows/s."""
    conn = await asyncpg.connect(url)
    insert = _RAW_INSERT.format("$1", "$2", "$3", "now()")
    rows = [(cid, first + i, f"message {i}") for i in range(FLOOR_ROWS)]
    try:
        start = time.perf_counter()
        for at in range(0, FLOOR_ROWS, per_transaction):
            async with conn.transaction():
                await conn.executemany(insert, rows[at : at + per_transaction])
        return FLOOR_ROWS / (time.perf_counter() - start)
    finally:
        await conn.close()


async def floors(db: Database, round_: int) -> tuple[float, float]:
    """The bare driver's rows/s: one per transaction, and 100 per transaction."""
    cid = (await db.stores.conversations.get_or_create("bench", "W", "C", f"floor {round_}", team="t")).id
    if db.dialect == "sqlite":
        path = str(db.url.database)
        one = await asyncio.to_thread(sqlite_floor, path, cid, 1, 1)
        return one, await asyncio.to_thread(sqlite_floor, path, cid, 100, FLOOR_ROWS + 1)
    url = db.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return await postgres_floor(url, cid, 1, 1), await postgres_floor(url, cid, 100, FLOOR_ROWS + 1)


def goal_line(label: str, figure: float, goal: int | None, floor: float, how: str) -> str:
    verdict = "no goal" if goal is None else f"goal >= {goal:,}: {'met' if figure >= goal else 'NOT met'}"
    return f"  goal, {label:<32}: {figure:9,.0f}/s ({verdict}) = {figure / floor:.2f}x the floor, {how} {floor:,.0f}/s"


async def measure(url: str, messages: int, rounds: int) -> None:
    """Appends and their floors, taking turns ``rounds`` times (the best of each: the least
    disturbed by whatever else runs on the machine), then the outbox scan."""
    runs: list[tuple[float, float, float, float]] = []
    async with Database(url) as db:
        await upgrade(db)
        for round_ in range(rounds):
            one = await append_rate_one(db, 1000 if db.dialect == "sqlite" else 300)
            many = await append_rate_many(db, 100, 20)
            runs.append((one, many, *await floors(db, round_)))
        scan = await outbox_scan(db, messages)
        driver = "sqlite3" if db.dialect == "sqlite" else "asyncpg"
        goal_one, goal_many = GOALS[db.dialect]
    one, many, floor_one, floor_many = (max(run[i] for run in runs) for i in range(4))
    print(f"  append, one conversation, one writer   : {one:9.0f} messages/s")
    print(f"  append, 100 conversations at once       : {many:9.0f} messages/s")
    print(f"  outbox (100 unposted) among {messages:,} messages: {scan:7.2f} ms (median of 20)")
    print(f"  (appends and floors: the best of {rounds} turns each)")
    one_line = f"bare {driver}, a transaction a row:"
    print(goal_line(f"{db.dialect} one writer", one, goal_one, floor_one, one_line))
    many_line = f"bare {driver}, 100 rows a transaction:"
    print(goal_line(f"{db.dialect} 100 conversations", many, goal_many, floor_many, many_line))


async def main(messages: int, skip_postgres: bool, rounds: int) -> None:
    print("\n== storage")
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite (WAL, a file)")
        await measure(f"sqlite:///{tmp}/bench.db", messages, rounds)
    if skip_postgres:
        return
    admin = make_url(ADMIN).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"threadcrew_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        print(f"PostgreSQL: skipped ({exc})")
        return
    try:
        print("PostgreSQL (asyncpg)")
        await measure(make_url(ADMIN).set(database=name).render_as_string(hide_password=False), messages, rounds)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="turns of appends and floors (the best is shown)")
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.skip_postgres, args.rounds))
