"""The group commit behind :meth:`Database.write`: queued writes, a batch per transaction.

Two kinds of write share a batch:

- a plain write, ``work(conn)``: run once, in queue order;
- a merged write, :class:`Merged`: every queued item of the same ``run`` goes to one call,
  ``run(conn, items)``, which may do all of them in a few statements (appends of a hundred
  conversations in three round trips instead of two hundred).

A merged ``run`` answers an outcome per item, ``(True, value)`` or ``(False, error)``, and
writes nothing for an item it refuses; if it raises, the batch is rolled back and every write
runs again alone, each in a savepoint (a write is a pure function of its arguments).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

__all__ = ["GroupWriter", "Merged", "Outcome"]

I = TypeVar("I")  # noqa: E741 - an item, as in the typing docs
T = TypeVar("T")

Outcome = tuple[bool, Any]
"""``(True, value)`` or ``(False, exception)``."""


@dataclass(frozen=True, slots=True)
class Merged(Generic[I]):
    """One item of a write that is merged with the other queued items of the same ``run``."""

    run: Callable[[Connection, Sequence[I]], list[Outcome]]
    item: I


Work = Callable[[Connection], Any] | Merged[Any]
InTransaction = Callable[[Callable[[Connection], list[Outcome]]], Awaitable[list[Outcome]]]


class GroupWriter:
    """Queued writes, run a batch per transaction by ``in_transaction(run_batch)``."""

    def __init__(self, in_transaction: InTransaction) -> None:
        self._in_transaction = in_transaction
        self._queue: list[tuple[Work, asyncio.Future[Any]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, work: Work) -> Any:
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
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
                run = functools.partial(run_batch, works=[work for work, _ in batch])
                try:
                    outcomes = await self._in_transaction(run)
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


def run_batch(conn: Connection, works: Sequence[Work]) -> list[Outcome]:
    """Run every write; if one raises, roll back and run them again, each in a savepoint.

    Writes rarely fail (a stale version), so the common case costs no savepoints.
    """
    if len(works) == 1:  # alone in its transaction: an error rolls the transaction back
        return _run_together(conn, works)
    savepoint = conn.begin_nested()
    try:
        together = _run_together(conn, works)
    except Exception:
        savepoint.rollback()
    else:
        savepoint.commit()
        return together
    outcomes: list[Outcome] = []
    for work in works:
        savepoint = conn.begin_nested()
        try:
            [outcome] = _run_together(conn, [work])
        except Exception as exc:
            savepoint.rollback()
            outcomes.append((False, exc))
        else:
            savepoint.commit()
            outcomes.append(outcome)
    return outcomes


def _run_together(conn: Connection, works: Sequence[Work]) -> list[Outcome]:
    """Plain writes in queue order, then each merged ``run`` once with its items (in queue order)."""
    outcomes: list[Outcome] = [(False, None)] * len(works)
    merged: dict[Callable[[Connection, Sequence[Any]], list[Outcome]], list[int]] = {}
    for index, work in enumerate(works):
        if isinstance(work, Merged):
            merged.setdefault(work.run, []).append(index)
        else:
            outcomes[index] = (True, work(conn))
    for run, indexes in merged.items():
        items = [works[index].item for index in indexes]  # type: ignore[union-attr]
        for index, outcome in zip(indexes, run(conn, items), strict=True):
            outcomes[index] = outcome
    return outcomes
