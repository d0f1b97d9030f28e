"""One database: the engine, its dialect quirks, and the stores on it.

URLs (``THREADCREW_DATABASE_URL``)::

    sqlite:///path/to/threadcrew.db            the embedded default (aiosqlite), WAL, foreign keys on
    postgresql://user@host:5432/db             PostgreSQL with asyncpg
    postgresql+psycopg://user@host:5432/db     PostgreSQL with psycopg 3

On SQLite every transaction starts with ``BEGIN IMMEDIATE``: writers from several tasks or
processes queue on the busy timeout instead of failing when a read turns into a write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from sqlalchemy import URL, event, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from .errors import UnsupportedDatabaseError

__all__ = ["SUPPORTED_SCHEMES", "Clock", "Database", "database_url"]

Clock = Callable[[], dt.datetime]

SUPPORTED_SCHEMES = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+psycopg",
}

SQLITE_BUSY_TIMEOUT_MS = 30_000


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def database_url(url: str | URL) -> URL:
    """``url`` with the async driver threadcrew uses for it.

    Raises:
        UnsupportedDatabaseError: not a URL, or of a kind not supported; lists the supported ones.
    """
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError as exc:
        raise UnsupportedDatabaseError(f"{url!r} is not a database URL: {_supported()}") from exc
    driver = SUPPORTED_SCHEMES.get(parsed.drivername)
    if driver is None:
        raise UnsupportedDatabaseError(f"database URL scheme {parsed.drivername!r} is not supported: {_supported()}")
    return parsed.set(drivername=driver)


def _supported() -> str:
    return "use sqlite:///path/to/file.db, postgresql://user@host/db (asyncpg) or postgresql+psycopg://user@host/db"


class Database:
    """An async engine and its stores; ``async with`` closes the engine.

    Args:
        url: the database URL (see the module docstring).
        clock: what "now" is (tests move it forward instead of sleeping).
        echo: log every statement.

    Raises:
        UnsupportedDatabaseError: see :func:`database_url`.
    """

    def __init__(self, url: str | URL, *, clock: Clock = utc_now, echo: bool = False) -> None:
        self.url = database_url(url)
        self.dialect: Literal["sqlite", "postgresql"] = (
            "sqlite" if self.url.get_backend_name() == "sqlite" else ("postgresql")
        )
        self.clock = clock
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "sqlite":
            database = self.url.database
            if database and database != ":memory:":
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            _sqlite_behaviour(self.engine)
        from .stores import Stores

        self.stores = Stores(self)

    def begin(self) -> Any:
        """A transaction: ``async with db.begin() as conn: ...`` (committed on success)."""
        return self.engine.begin()

    def connect(self) -> Any:
        return self.engine.connect()

    @property
    def safe_url(self) -> str:
        """The URL without its password, for messages."""
        return self.url.render_as_string(hide_password=True)

    async def close(self) -> None:
        await self.engine.dispose()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


def _sqlite_behaviour(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transactions out of the driver's hands, so that "begin" below decides how they start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
            "synchronous=NORMAL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
