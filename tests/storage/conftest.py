"""Every store test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``THREADCREW_TEST_POSTGRES_URL`` (default: the postgres user on
127.0.0.1:5432, as on the development machines); ``.ci/run`` starts a throwaway cluster and
sets it. The migrations run once into a template database; each test gets a fresh copy.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from storage import Database, upgrade
from tests.conftest import require

POSTGRES_URL = os.environ.get("THREADCREW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def _admin_dsn() -> str:
    return make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)


def _postgres_problem() -> str | None:
    try:
        with psycopg.connect(_admin_dsn(), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL is not reachable at {make_url(POSTGRES_URL).render_as_string()}: {exc}"


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the newest migration, on a loop of its own (fixtures are sync)."""

    async def run() -> None:
        async with Database(url) as db:
            await upgrade(db)

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


def postgres_url(database: str) -> str:
    return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A database at the newest migration, to copy for each test."""
    problem = _postgres_problem()
    require(problem is None, problem or "")
    name = f"threadcrew_template_{os.getpid()}"
    with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    migrate(postgres_url(name))
    yield name
    with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def scratch_postgres(template: str | None = None) -> Iterator[str]:
    """The URL of a new PostgreSQL database (a copy of ``template``, or empty), dropped afterwards."""
    name = f"threadcrew_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield postgres_url(name)
    finally:
        with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database."""
    problem = _postgres_problem()
    require(problem is None, problem or "")
    with scratch_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database at the newest migration, on each kind of database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'threadcrew.db'}"
        migrate(url)
        yield url
        return
    with scratch_postgres(template=request.getfixturevalue("postgres_template")) as url:
        yield url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def db(database_url: str, clock: FakeClock) -> AsyncIterator[Database]:
    async with Database(database_url, clock=clock) as database:
        yield database
