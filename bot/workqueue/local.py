"""The in-memory queue: one asyncio task per busy thread, in this process (the embedded default)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from adapters import ThreadRef

from . import Accepted
from .thread_work import RESUME, work_thread

if TYPE_CHECKING:
    from ..dispatcher import Dispatcher

__all__ = ["LocalQueue"]


class LocalQueue:
    """Each busy thread has a worker task here that works through its items; an idle thread has none.

    What a worker holds is in memory only; the inbox and the stored conversations are what a
    restart goes on from (the dispatcher's recovery), and a failed thread's retry is a timer.
    """

    distributed = False

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self._workers: dict[str, _ThreadWorker] = {}
        self._timers: set[asyncio.Task[None]] = set()
        self._closing = False

    async def wake(self, thread: ThreadRef, accepted: Accepted | None = None) -> None:
        self._worker(thread).put(accepted if accepted is not None else RESUME)

    async def resume(self, thread: ThreadRef, pending: list[Accepted]) -> None:
        worker = self._workers.get(thread.key)
        if worker is not None and not worker.closed:
            worker.put(RESUME)  # it is at work: its queue holds its events
            return
        worker = self._worker(thread)  # no await from here: a worker with nothing to do ends at once
        for accepted in pending:
            worker.put(accepted)
        worker.put(RESUME)

    async def retry_later(self, thread: ThreadRef, delay: float) -> None:
        if not self._closing:
            self._keep(self._retry(thread, delay))

    async def _retry(self, thread: ThreadRef, delay: float) -> None:
        await asyncio.sleep(delay)
        if not self._closing:
            await self.dispatcher.requeue(thread)

    def _keep(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    async def working(self) -> set[str]:
        return set(self._workers)

    async def depth(self) -> int:
        return sum(len(w.queue) for w in self._workers.values())

    async def wait_idle(self, thread: ThreadRef | None = None) -> None:
        if thread is not None:
            while (worker := self._workers.get(thread.key)) is not None:
                await asyncio.gather(worker.task, return_exceptions=True)
            return
        while self._workers:
            await asyncio.gather(*(w.task for w in list(self._workers.values())), return_exceptions=True)

    def stop(self) -> None:
        self._closing = True
        for timer in list(self._timers):
            timer.cancel()
        for worker in self._workers.values():
            worker.stopping = True

    async def drain(self, grace: float) -> None:
        """Every worker finishes within ``grace`` seconds, those that start meanwhile too (a failed
        worker's successor takes its queued events); once out of time, the rest are cancelled."""
        self.stop()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self._workers:
            tasks = [w.task for w in self._workers.values()]
            _, running = await asyncio.wait(tasks, timeout=max(0.0, deadline - loop.time()))
            if not running:
                continue  # they ended; the successors they started are in _workers now
            for task in running:
                task.cancel()
            for task in running:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            return  # what they leave is stored, for the next start

    def _worker(self, thread: ThreadRef) -> _ThreadWorker:
        worker = self._workers.get(thread.key)
        if worker is None or worker.closed:
            worker = self._workers[thread.key] = _ThreadWorker(self, thread)
            worker.task.add_done_callback(lambda _: self._forget(thread.key, worker))
        return worker

    def _forget(self, key: str, worker: _ThreadWorker) -> None:
        if self._workers.get(key) is worker:
            del self._workers[key]


class _ThreadWorker:
    """Works through one thread's items; ends when idle.

    A worker ends as soon as it has nothing to do (the run waits for people, is finished, or
    there is none), so an idle thread holds no memory; its next event starts a new worker,
    which opens the conversation from storage.
    """

    def __init__(self, queue: LocalQueue, thread: ThreadRef) -> None:
        self.owner = queue
        self.thread = thread
        self.queue: collections.deque[object] = collections.deque()
        self.closed = False  # set (synchronously) once the worker takes no more items
        self.stopping = queue._closing  # one started during shutdown (a failed one's successor) only drains
        self.task = asyncio.create_task(self._run(), name=f"thread {thread.key}")

    def put(self, item: object) -> None:
        assert not self.closed
        self.queue.append(item)

    async def _take(self) -> object | None:
        return self.queue.popleft() if self.queue else None

    def _ended(self) -> None:
        self.closed = True
        if self.queue:  # events that came after a failure still count
            successor = self.owner._worker(self.thread)
            successor.queue.extend(self.queue)

    async def _run(self) -> None:
        await work_thread(self.owner.dispatcher, self.thread, self._take, lambda: self.stopping, self._ended)
