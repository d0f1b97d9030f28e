"""PostgreSQL for the bot's tests: a fresh database (the ``postgres`` fixture, in conftest.py), its jobs."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg

from tests.conftest import require
from tests.storage.conftest import _postgres_problem, migrate, scratch_postgres

__all__ = ["die_holding_a_job", "fail_jobs", "fresh_database", "jobs_of", "scheduled_jobs"]


def fresh_database() -> Iterator[str]:
    """A fresh PostgreSQL database at the newest migration (procrastinate's schema included), dropped after."""
    problem = _postgres_problem()
    require(problem is None, problem or "")
    with scratch_postgres() as url:
        migrate(url)
        yield url


def jobs_of(url: str, lock: str | None = None) -> list[str]:
    """The statuses of the jobs of a thread (its lock; every job without one), oldest first."""
    with psycopg.connect(url) as conn:
        query = "SELECT status FROM procrastinate_jobs WHERE %(lock)s::text IS NULL OR lock = %(lock)s ORDER BY id"
        rows = conn.execute(query, {"lock": lock}).fetchall()
    return [str(status) for (status,) in rows]


def die_holding_a_job(url: str) -> None:
    """A worker takes the next job and dies: its heartbeat stops (an hour ago) and the job stays "doing",
    holding its thread's lock."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("INSERT INTO procrastinate_workers DEFAULT VALUES RETURNING id").fetchone()
        assert row is not None
        conn.execute("SELECT procrastinate_fetch_job_v2(NULL, %s)", row)
        conn.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour' WHERE id = %s", row)


def scheduled_jobs(url: str, lock: str) -> int:
    """How many jobs of a thread (its lock) were deferred to run later (a retry's backoff)."""
    with psycopg.connect(url) as conn:
        query = "SELECT count(*) FROM procrastinate_jobs WHERE lock = %s AND scheduled_at IS NOT NULL"
        row = conn.execute(query, (lock,)).fetchone()
    return int(row[0]) if row else 0


def fail_jobs(url: str, lock: str) -> None:
    """A thread's waiting jobs fail outside the work loop (as a job whose failure handling failed):
    none is left to run its thread."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE procrastinate_jobs SET status = 'failed' WHERE lock = %s AND status = 'todo'", (lock,))
