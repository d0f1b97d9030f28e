"""``agents.runtime_logging`` on the bot's own database: every record tied to its conversation.

With ``THREADCREW_RUNTIME_LOGGING=true`` the bot starts a :class:`StorageLogger` for its whole
life: the model calls, agents built, their events and the tool calls of every team it runs go to
the ``runtime_log`` table, each with the conversation whose work logged it (the one a thread's
worker binds, see :func:`bot.logs.bind_thread`); ``threadcrew transcript log`` reads them back.

The runtime log's calls are synchronous and may come from worker threads (sync tools), while
storage is async: records are queued and written by one task on the bot's loop, in batches of
what came within :data:`BATCH_SECONDS` (one transaction a record would cost a turn ~1 ms a record).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from agents import runtime_logging
from agents.loggers import JSON_FIELDS, BaseLogger
from storage import Database, NewRuntimeLog

from .logs import bound_conversation

__all__ = ["BATCH_SECONDS", "StorageLogger", "storage_runtime_logging"]

BATCH_SECONDS = 0.05

_log = logging.getLogger(__name__)


class StorageLogger(BaseLogger):
    """A runtime logger writing to ``db``'s ``runtime_log``; ``redact`` masks secrets in each record.

    Start it (``runtime_logging.start(logger=...)``) on the loop that owns ``db``.
    """

    def __init__(self, db: Database, redact: Callable[[Any], Any] = lambda value: value) -> None:
        self.db = db
        self.redact = redact
        self.session_id = str(uuid.uuid4())
        self._lock = threading.Lock()
        self._pending: list[NewRuntimeLog] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writer: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> str:
        """Take records from now on; returns the session id."""
        self._loop = asyncio.get_running_loop()
        return self.session_id

    def stop(self) -> None:
        """Take no more records (what is queued is still written: await :meth:`drain`)."""
        self._loop = None

    async def drain(self) -> None:
        """Once stopped: until every record taken is written."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._writer is not None:
            await self._writer
        await self.flush()

    def _write(self, table: str, fields: dict[str, Any]) -> None:
        loop = self._loop
        if loop is None:
            return
        record = {key: json.loads(value) if key in JSON_FIELDS else value for key, value in fields.items()}
        entry = NewRuntimeLog(
            session_id=self.session_id,
            kind=table,
            record=self.redact(record),
            created_at=self.db.clock(),
            conversation_id=bound_conversation(),
            source_name=fields.get("source_name") or fields.get("name"),
            name=fields.get("event_name") or fields.get("function_name"),
        )
        with self._lock:
            self._pending.append(entry)
            if len(self._pending) > 1:
                return  # the write of the first one is on its way and takes this one too
        loop.call_soon_threadsafe(self._write_soon)

    def _write_soon(self) -> None:
        if self._timer is None and self._loop is not None:
            self._timer = self._loop.call_later(BATCH_SECONDS, self._start_writing)

    def _start_writing(self) -> None:
        self._timer = None
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self.flush(), name="runtime log")

    async def flush(self) -> None:
        """Write what is queued (a failed write is logged and dropped: a log never stops a run)."""
        while True:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return
            try:
                await self.db.stores.runtime_log.add(batch)
            except Exception:
                _log.exception("%d runtime log record(s) could not be stored", len(batch))


@contextlib.asynccontextmanager
async def storage_runtime_logging(db: Database, redact: Callable[[Any], Any]) -> AsyncIterator[StorageLogger]:
    """Runtime logging into ``db`` until the block ends; then what was logged is written."""
    logger = StorageLogger(db, redact)
    runtime_logging.start(logger=logger)
    try:
        yield logger
    finally:
        runtime_logging.stop()
        await logger.drain()
