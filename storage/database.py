"""One database: the engine, its dialect quirks, and the stores on it.

URLs (``THREADCREW_DATABASE_URL``)::

    sqlite:///path/to/threadcrew.db            the embedded default (aiosqlite), WAL, foreign keys on
    postgresql://user@host:5432/db             PostgreSQL with asyncpg
    postgresql+psycopg://user@host:5432/db     PostgreSQL with psycopg 3

On SQLite a write transaction starts with ``BEGIN IMMEDIATE``: writers from several processes
queue on the busy timeout instead of failing when a read turns into a write; this process's
writers queue on a lock, and its hot writes go through a group commit (:meth:`Database.write`).
Reads (:meth:`Database.connect`) take no lock.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from .changes import ConversationChanges
from .errors import StorageError, UnsupportedDatabaseError
from .group_commit import GroupWriter, Merged, Outcome

__all__ = ["SUPPORTED_SCHEMES", "Clock", "Database", "database_url"]

Clock = Callable[[], dt.datetime]
T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - an item, as in the typing docs

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
        self.changes = ConversationChanges()  # the console's live views wait on it
        self._writes = asyncio.Lock() if self.dialect == "sqlite" else None
        # The connections out of the pool; close() waits for them: the engine's dispose closes only
        # those in the pool, and one returned later stays open until it is collected.
        self._out = 0
        self._all_in = asyncio.Event()
        self._all_in.set()
        self._closed = False
        self._writer: GroupWriter | None = None
        # On a SQLite file, grouped writes run on a plain sqlite3 connection in one thread of
        # their own: a whole transaction is one hop there and back, not one per statement.
        self._sync_engine: Engine | None = None
        self._sync_thread: concurrent.futures.ThreadPoolExecutor | None = None
        self._sync_conn: Connection | None = None  # the writer thread's, kept open (no pool round trip)
        if self.dialect == "sqlite" and self.url.database not in (None, "", ":memory:"):
            self._sync_engine = create_engine(
                self.url.set(drivername="sqlite"),
                echo=echo,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            )
            _sqlite_behaviour(self._sync_engine)

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A transaction: ``async with db.begin() as conn: ...`` (committed on success).

        On SQLite, one database file has one writer at a time: this process's writers queue
        here instead of in SQLite's busy handler, which sleeps and retries (other processes
        still meet it, through ``busy_timeout``).
        """
        with self._taken_out():
            async with self._transaction() as conn:
                yield conn

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        if self._writes is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._writes, self.engine.begin() as conn:
            yield conn

    async def write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(conn)`` in a transaction shared with the other writes queued meanwhile.

        A group commit: writes that arrive while a transaction is under way go together in the
        next one; if one raises (a conflict), the others run again, each in a savepoint of its
        own, so that it is rolled back alone and its caller gets the error. ``work`` is plain
        synchronous code on a :class:`~sqlalchemy.engine.Connection`; it may run in another thread.
        """
        return await self._group().submit(work)  # type: ignore[no-any-return]

    async def write_merged(self, run: Callable[[Connection, Sequence[I]], list[Outcome]], item: I) -> Any:
        """Like :meth:`write`, but ``run`` does every queued item of the batch in one call.

        ``run(conn, items)`` answers ``(True, value)`` or ``(False, error)`` per item, in order,
        and writes nothing for an item it refuses (see :mod:`storage.group_commit`).
        """
        return await self._group().submit(Merged(run, item))

    def _group(self) -> GroupWriter:
        self._refuse_if_closed()
        if self._writer is None:
            self._writer = GroupWriter(self._in_transaction)
        return self._writer

    async def _in_transaction(self, work: Callable[[Connection], T]) -> T:
        if self._sync_engine is None:  # not counted: close() finishes the group commit before it waits
            async with self._transaction() as conn:
                return await conn.run_sync(work)
        if self._sync_thread is None:
            self._sync_thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="threadcrew-sqlite")
        assert self._writes is not None
        async with self._writes:
            return await asyncio.get_running_loop().run_in_executor(self._sync_thread, self._run_sync, work)

    def _run_sync(self, work: Callable[[Connection], T]) -> T:
        """In the writer thread: ``work`` in a transaction on the thread's own connection."""
        assert self._sync_engine is not None
        if self._sync_conn is None or self._sync_conn.closed or self._sync_conn.invalidated:
            self._sync_conn = self._sync_engine.connect()
        with self._sync_conn.begin():
            return work(self._sync_conn)

    def _close_sync(self) -> None:
        if self._sync_conn is not None:
            self._sync_conn.close()
            self._sync_conn = None

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reading: ``async with db.connect() as conn: ...``."""
        with self._taken_out():
            async with self.engine.connect() as conn:
                if self.dialect == "sqlite":
                    await conn.execution_options(threadcrew_read=True)
                yield conn

    @contextlib.contextmanager
    def _taken_out(self) -> Iterator[None]:
        """Count a connection from the moment it is asked for until it is back in the pool.

        Raises:
            StorageError: the database is closed (or closing).
        """
        self._refuse_if_closed()
        self._out += 1
        self._all_in.clear()
        try:
            yield
        finally:
            self._out -= 1
            if not self._out:
                self._all_in.set()

    def _refuse_if_closed(self) -> None:
        if self._closed:
            raise StorageError(
                f"the database at {self.safe_url} is closed: a read or write came after Database.close();"
                " whatever still uses it should have finished before its owner closed it"
            )

    async def ping(self) -> None:
        """Ask the database something trivial (is it there?).

        Raises:
            StorageError: it does not answer.
        """
        try:
            async with self.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise StorageError(f"the database at {self.safe_url} does not answer: {type(exc).__name__}") from exc

    @property
    def safe_url(self) -> str:
        """The URL without its password, for messages."""
        return self.url.render_as_string(hide_password=True)

    async def close(self) -> None:
        """Refuse new reads and writes, finish those under way, and close every connection.

        A connection still out when the engine is disposed would never be closed (on SQLite,
        aiosqlite warns when it is collected), nor would one opened afterwards from the new pool.
        """
        self._closed = True
        if self._writer is not None:
            await self._writer.finish()
        await self._all_in.wait()
        await self.engine.dispose()
        if self._sync_thread is not None:
            self._sync_thread.submit(self._close_sync).result()
            self._sync_thread.shutdown(wait=True)
            self._sync_thread = None
        if self._sync_engine is not None:
            self._sync_engine.dispose()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


def _sqlite_behaviour(engine: AsyncEngine | Engine) -> None:
    """WAL, foreign keys, and transactions that say up front whether they write.

    A transaction starts with ``BEGIN IMMEDIATE`` (it takes the write lock at once, so that it
    never has to upgrade a read lock and fail), except on a reading connection
    (``Database.connect``): a plain ``BEGIN``, which in WAL mode waits for nobody and blocks
    nobody.
    """
    sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine

    @event.listens_for(sync_engine, "connect")
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

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        reads = connection.get_execution_options().get("threadcrew_read", False)
        driver = connection.connection.driver_connection
        if isinstance(driver, sqlite3.Connection):  # the writer thread's: straight to sqlite3 (~40 us less)
            driver.execute("BEGIN" if reads else "BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN" if reads else "BEGIN IMMEDIATE")
