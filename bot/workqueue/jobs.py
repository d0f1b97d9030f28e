"""The PostgreSQL queue: each thread's work is a procrastinate job that any worker process may run.

- One at a time per thread: a job's ``lock`` is the thread's key, so procrastinate runs no two
  jobs of one thread at once, wherever they run.
- One queued job per thread: its ``queueing_lock`` is the thread's key too; deferring another
  while one waits raises ``AlreadyEnqueued``, which is fine: the queued job reads the thread's
  inbox when it runs, so it sees the new event.
- Woken by LISTEN/NOTIFY (procrastinate's worker listens; polling stays as a fallback).
- A worker that dies mid-step stops sending heartbeats; after ``stall_seconds`` its job (still
  "doing", so still holding the thread's lock) is put back in the queue by any live worker and
  runs again from what is stored: the step is done again, what was stored is posted once. A live
  worker taken for dead (its loop blocked longer than ``stall_seconds``) is not stopped: procrastinate
  3.10 only records heartbeats and has no fencing. Its step and the rerun both happen; the
  conversation's version check stores the first save only, the other fails and is retried.
- Each platform has its queue (``threadcrew-<platform>``): a worker takes only the threads of the
  platforms it serves.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from types import TracebackType
from typing import TYPE_CHECKING, Any, LiteralString

import procrastinate
from procrastinate import exceptions as queue_errors
from procrastinate.jobs import Status
from procrastinate.types import JSONValue
from sqlalchemy import URL

from adapters import ThreadEvent, ThreadRef

from . import Accepted
from .thread_work import RESUME, work_thread

if TYPE_CHECKING:
    from ..dispatcher import Dispatcher

__all__ = ["TASK", "JobQueue", "conninfo", "queue_name"]

_log = logging.getLogger(__name__)

TASK = "threadcrew.thread_work"
_WORKING: LiteralString = (
    "SELECT DISTINCT lock FROM procrastinate_jobs"
    " WHERE task_name = %(task_name)s AND status IN ('todo', 'doing') AND lock IS NOT NULL"
)
IDLE_POLL_SECONDS = 0.2  # how often wait_idle looks at the queue (it has no event to wait on)


def conninfo(url: URL) -> str:
    """The libpq connection string of a PostgreSQL database URL (whatever its driver)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def queue_name(platform: str) -> str:
    """The queue of ``platform``'s threads."""
    return f"threadcrew-{platform}"


class JobQueue:
    """Threads' work as procrastinate jobs on the bot's PostgreSQL database; ``async with`` opens it.

    Args:
        dispatcher: whose threads these are.
        url: the database (its URL, any driver).
        work: run jobs in this process (the ``worker`` and ``all`` roles); else only defer them.
        concurrency: how many threads this process works on at once.
        stall_seconds: a worker silent this long is dead: its jobs are run again elsewhere.
        drain_seconds: on shutdown, how long running jobs may take to finish.
    """

    distributed = True

    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        url: URL,
        work: bool,
        concurrency: int = 32,
        stall_seconds: float = 30.0,
        drain_seconds: float = 30.0,
    ) -> None:
        self.dispatcher = dispatcher
        self.work, self.concurrency = work, concurrency
        self.stall_seconds, self.drain_seconds = stall_seconds, drain_seconds
        connector = procrastinate.PsycopgConnector(conninfo=conninfo(url), min_size=1, max_size=8)
        self.app = procrastinate.App(connector=connector)
        self.app.task(name=TASK, pass_context=False)(self._job)
        self.queues = [queue_name(p) for p in sorted(dispatcher.rt.served)]
        self._closing = False
        self._tasks: list[asyncio.Task[None]] = []

    # -- the lifecycle ----------------------------------------------------------------------------------

    async def __aenter__(self) -> JobQueue:
        await self.app.open_async()
        if self.work and self.queues:
            heartbeat = max(self.stall_seconds / 4, 0.1)
            worker = self.app.run_worker_async(
                queues=self.queues,
                name=f"threadcrew-{'-'.join(sorted(self.dispatcher.rt.served))}",
                concurrency=self.concurrency,
                install_signal_handlers=False,  # the bot handles SIGTERM: it drains, then stops the worker
                delete_jobs="successful",
                update_heartbeat_interval=heartbeat,
                stalled_worker_timeout=self.stall_seconds,
                shutdown_graceful_timeout=self.drain_seconds,
            )
            self._tasks = [
                asyncio.create_task(worker, name="job worker"),
                asyncio.create_task(self._retrying_stalled(), name="stalled jobs"),
            ]
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.drain(self.drain_seconds)
        await self.app.close_async()

    def stop(self) -> None:
        """No job starts another step; the worker fetches no more jobs (running ones finish)."""
        self._closing = True
        for task in self._tasks:
            task.cancel()  # procrastinate's worker then stops gracefully: it waits for its running jobs

    async def drain(self, grace: float) -> None:
        self.stop()
        tasks, self._tasks = self._tasks, []
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace + 5)  # the worker aborts its jobs after ``grace``
            for task in late:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    # -- putting work in ---------------------------------------------------------------------------------

    async def wake(self, thread: ThreadRef, accepted: Accepted | None = None) -> None:
        await self._defer(thread)

    async def resume(self, thread: ThreadRef, pending: list[Accepted]) -> None:
        await self._defer(thread)  # the job reads the thread's events from the inbox

    async def retry_later(self, thread: ThreadRef, delay: float) -> None:
        await self._defer(thread, delay)

    async def _defer(self, thread: ThreadRef, delay: float | None = None) -> None:
        """A job for ``thread``, unless one waits already (it will read the inbox anyway)."""
        schedule: dict[str, Any] = {"schedule_in": {"seconds": delay}} if delay else {}
        deferrer = self.app.configure_task(
            TASK, lock=thread.key, queueing_lock=thread.key, queue=queue_name(thread.platform), **schedule
        )
        where: list[JSONValue] = [thread.platform, thread.workspace_id, thread.channel_id, thread.thread_id]
        with contextlib.suppress(queue_errors.AlreadyEnqueued):
            await deferrer.defer_async(thread=where)

    # -- what is queued ----------------------------------------------------------------------------------

    async def working(self) -> set[str]:
        """Threads with a job waiting or running, in any process."""
        rows = await self.app.connector.execute_query_all_async(query=_WORKING, task_name=TASK)
        return {str(row["lock"]) for row in rows}

    async def depth(self) -> int:
        return await self._count("todo")

    async def wait_idle(self, thread: ThreadRef | None = None) -> None:
        """Until no job of ``thread`` (or of any thread) waits or runs, in any process."""
        lock = thread.key if thread is not None else None
        while True:  # no event to wait on: the jobs live in the database, worked by any process
            if not await self._count("todo", "doing", lock=lock):
                return
            await asyncio.sleep(IDLE_POLL_SECONDS)

    async def _count(self, *statuses: str, lock: str | None = None) -> int:
        found = await self.app.job_manager.list_queues_async(task=TASK, lock=lock)
        return sum(int(q[s]) for q in found if q["name"] in self.queues for s in statuses)

    # -- running it --------------------------------------------------------------------------------------

    async def _job(self, thread: list[str]) -> None:
        """The job: work the thread until it is idle; if this process stops first, a new job goes on."""
        ref = ThreadRef(*thread)
        if ref.platform not in self.dispatcher.rt.served:
            _log.error("a job for %s reached a worker that does not serve %s", ref.key, ref.platform)
            return
        take = _InboxReader(self.dispatcher, ref)
        try:
            unfinished = await work_thread(self.dispatcher, ref, take, lambda: self._closing)
        except asyncio.CancelledError:  # the drain ran out: another worker goes on with what is stored
            await asyncio.shield(self._defer(ref))
            raise
        if unfinished:
            await self._defer(ref)

    async def _retrying_stalled(self) -> None:
        """Put the jobs of dead workers back in the queue, so their threads' locks free up and they run again."""
        while True:
            await asyncio.sleep(self.stall_seconds / 2)
            try:
                await self.retry_stalled()
            except Exception as exc:
                _log.warning("could not look for stalled jobs: %s", exc)

    async def retry_stalled(self) -> int:
        """Queue again the jobs whose worker sent no heartbeat for ``stall_seconds``; returns how many."""
        manager = self.app.job_manager
        retried = 0
        for job in await manager.get_stalled_jobs(task_name=TASK, seconds_since_heartbeat=self.stall_seconds):
            assert job.id is not None
            try:
                await manager.retry_job(job)
                _log.warning("job %s of %s: its worker died; it runs again", job.id, job.lock)
            except queue_errors.UniqueViolation:
                # A job of the same thread waits already: it goes on with the thread; this one goes.
                await manager.finish_job_by_id_async(job.id, Status.FAILED, delete_job=True)
                _log.warning("job %s of %s: its worker died; the thread's queued job goes on", job.id, job.lock)
            except queue_errors.ConnectorException:
                continue  # another worker took care of it first
            retried += 1
        return retried


class _InboxReader:
    """A job's items: first the stored work, then the thread's events from the inbox, oldest first."""

    def __init__(self, dispatcher: Dispatcher, thread: ThreadRef) -> None:
        self.events = dispatcher.rt.db.stores.events
        self.thread = thread
        self.started = False
        self.seen: set[int] = set()
        self.buffer: collections.deque[Accepted] = collections.deque()

    async def __call__(self) -> object | None:
        if not self.started:
            self.started = True
            return RESUME
        if not self.buffer:
            for inbox_id, payload in await self.events.pending(self.thread.platform, thread=self.thread.key):
                event = ThreadEvent.from_json(payload)
                if inbox_id not in self.seen and event.thread == self.thread:
                    self.seen.add(inbox_id)
                    self.buffer.append(Accepted(event, inbox_id))
        return self.buffer.popleft() if self.buffer else None
