"""Where a thread's work waits for a worker, and who runs it: the seam between the dispatcher and its workers.

The dispatcher accepts events into the inbox and tells the queue that a thread has work
(:meth:`WorkQueue.wake`); the queue runs the thread's work (:func:`~.thread_work.work_thread`),
one at a time per thread. Two implementations keep the same contract:

- :class:`~.local.LocalQueue`: in-memory workers, one asyncio task per busy thread, in this
  process (the embedded default: SQLite, one process, no queue server).
- :class:`~.jobs.JobQueue`: PostgreSQL jobs (procrastinate) that any worker process may run,
  one at a time per thread (the job's lock is the thread), woken by LISTEN/NOTIFY, retried
  when a worker dies mid-step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from adapters import ThreadEvent, ThreadRef

__all__ = ["Accepted", "WorkQueue"]


@dataclass(frozen=True, slots=True)
class Accepted:
    """An event, and its place in the inbox until it is handled."""

    event: ThreadEvent
    inbox_id: int


class WorkQueue(Protocol):
    """The thread's work: where it waits and who runs it (see the package docstring)."""

    distributed: bool
    """Whether other processes run this queue's work too (then a process may only take events)."""

    async def wake(self, thread: ThreadRef, accepted: Accepted | None = None) -> None:
        """``thread`` has work: ``accepted`` (an event in the inbox), or what is stored (None)."""

    async def resume(self, thread: ThreadRef, pending: list[Accepted]) -> None:
        """Go on with ``thread``'s stored work and its ``pending`` events (those no worker holds yet)."""

    async def retry_later(self, thread: ThreadRef, delay: float) -> None:
        """Run ``thread``'s work again in ``delay`` seconds (its last try failed)."""

    async def working(self) -> set[str]:
        """The keys of the threads whose work is queued or under way (the sweep leaves them alone)."""

    async def depth(self) -> int:
        """Work waiting for a worker (not counting what is being done now)."""

    async def wait_idle(self, thread: ThreadRef | None = None) -> None:
        """Until ``thread`` (or every thread) has no work left here."""

    def stop(self) -> None:
        """Start no more work, at once."""

    async def drain(self, grace: float) -> None:
        """Let the work under way finish (up to ``grace`` seconds); what is left stays queued or stored."""
