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
import functools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from .errors import StorageError, UnsupportedDatabaseError

__all__ = ["SUPPORTED_SCHEMES", "Clock", "Database", "database_url"]

Clock = Callable[[], dt.datetime]
T = TypeVar("T")

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
        self._writes = asyncio.Lock() if self.dialect == "sqlite" else None
        self._writer: _GroupWriter | None = None
        # On a SQLite file, grouped writes run on a plain sqlite3 connection in one thread of
        # their own: a whole transaction is one hop there and back, not one per statement.
        self._sync_engine: Engine | None = None
        self._sync_thread: concurrent.futures.ThreadPoolExecutor | None = None
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
        if self._writes is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._writes, self.engine.begin() as conn:
            yield conn

    async def write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(conn)`` in a transaction shared with the other writes queued meanwhile.

        A group commit: writes that arrive while a transaction is under way go together in the
        next one, each in a savepoint of its own, so that one that raises (a conflict) is rolled
        back alone and its caller gets the error. ``work`` is plain synchronous code on a
        :class:`~sqlalchemy.engine.Connection`; it may run in another thread.
        """
        if self._writer is None:
            self._writer = _GroupWriter(self)
        return await self._writer.submit(work)

    async def _in_transaction(self, work: Callable[[Connection], T]) -> T:
        if self._sync_engine is None:
            async with self.begin() as conn:
                return await conn.run_sync(work)
        if self._sync_thread is None:
            self._sync_thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="threadcrew-sqlite")
        engine = self._sync_engine

        def run() -> T:
            with engine.begin() as conn:
                return work(conn)

        assert self._writes is not None
        async with self._writes:
            return await asyncio.get_running_loop().run_in_executor(self._sync_thread, run)

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reading: ``async with db.connect() as conn: ...``."""
        async with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                await conn.execution_options(threadcrew_read=True)
            yield conn

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
        if self._writer is not None:
            await self._writer.finish()
        await self.engine.dispose()
        if self._sync_engine is not None:
            self._sync_engine.dispose()
        if self._sync_thread is not None:
            self._sync_thread.shutdown(wait=True)
            self._sync_thread = None

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class _GroupWriter:
    """Queued writes, run a batch per transaction (see :meth:`Database.write`)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue: list[tuple[Callable[[Connection], Any], asyncio.Future[Any]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, work: Callable[[Connection], T]) -> T:
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((work, done))
        if self._task is None:
            self._task = asyncio.create_task(self._drain(), name="threadcrew group commit")
        return await done

    async def finish(self) -> None:
        if self._task is not None:
            await asyncio.shield(self._task)

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                run = functools.partial(_run_batch, works=[work for work, _ in batch])
                try:
                    outcomes = await self.db._in_transaction(run)
                except asyncio.CancelledError:
                    for _, done in batch:
                        done.cancel()
                    raise
                except Exception as exc:
                    outcomes = [(False, exc)] * len(batch)
                for (_, done), (ok, value) in zip(batch, outcomes, strict=True):
                    if done.done():
                        continue  # its caller gave up waiting
                    if ok:
                        done.set_result(value)
                    else:
                        done.set_exception(value)
        finally:
            self._task = None


def _run_batch(conn: Connection, works: list[Callable[[Connection], Any]]) -> list[tuple[bool, Any]]:
    """Run every write; if one raises, roll back and run them again, each in a savepoint.

    Writes rarely fail (a stale version), so the common case costs no savepoints; a write is a
    pure function of its arguments, so running it again is safe.
    """
    if len(works) == 1:  # alone in its transaction: an error rolls the transaction back
        return [(True, works[0](conn))]
    savepoint = conn.begin_nested()
    try:
        values = [work(conn) for work in works]
    except Exception:
        savepoint.rollback()
    else:
        savepoint.commit()
        return [(True, value) for value in values]
    outcomes: list[tuple[bool, Any]] = []
    for work in works:
        savepoint = conn.begin_nested()
        try:
            value = work(conn)
        except Exception as exc:
            savepoint.rollback()
            outcomes.append((False, exc))
        else:
            savepoint.commit()
            outcomes.append((True, value))
    return outcomes


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
        connection.exec_driver_sql("BEGIN" if reads else "BEGIN IMMEDIATE")
