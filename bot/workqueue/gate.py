"""How many conversation steps run at once in this process, a new answer's first step first."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator

__all__ = ["StepGate"]


class StepGate:
    """At most ``limit`` steps at once (None: no limit); waiting steps go in order, those marked
    ``first`` (a thread's first step since people spoke: someone waits for its post) before the rest.

    On a loop with more work than CPU, every step in flight adds to every other step's wait; with
    the steps past ``limit`` held here, a new mention's first post waits for at most the steps in
    flight, not for every run's next step. A continuing run still gets every slot no first step
    asks for, so it is slowed down, never stopped.
    """

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self._running = 0
        self._first: collections.deque[asyncio.Future[None]] = collections.deque()
        self._rest: collections.deque[asyncio.Future[None]] = collections.deque()

    @contextlib.asynccontextmanager
    async def slot(self, *, first: bool) -> AsyncIterator[None]:
        """Hold one of the slots for a step."""
        if self.limit is None:
            yield
            return
        if self._running < self.limit and not self._first and not self._rest:
            self._running += 1
        else:
            await self._wait(self._first if first else self._rest)
        try:
            yield
        finally:
            self._release()

    async def _wait(self, line: collections.deque[asyncio.Future[None]]) -> None:
        turn = asyncio.get_running_loop().create_future()
        line.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # handed the slot as it was cancelled: pass it on
                self._release()
            else:
                line.remove(turn)
            raise

    def _release(self) -> None:
        """The slot goes to the next waiting step (first steps before the rest), else it is free."""
        for line in (self._first, self._rest):
            if line:
                line.popleft().set_result(None)
                return
        self._running -= 1
