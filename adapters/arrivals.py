"""Events on their way in: arrived from a platform, not answered yet.

A platform waits for its answer (Slack gives up after 3 s, and the answer comes only once the
event is in the inbox), while the work that earlier events started runs on the same event loop.
So the work waits for the arrivals: a thread's worker lets them settle before it takes its next
item, for at most a hold, so that a steady stream of events cannot stop the work. (A platform
that answers first and hands its events over after, as Slack's HTTP mode does, lets its own
arrivals settle before each hand-over in the same way.)
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Iterator

from aiohttp import web

__all__ = ["HOLD_SECONDS", "Arrivals"]

HOLD_SECONDS = 1.0  # the longest a worker waits for the arrivals before it takes its next item

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Arrivals:
    """Counts the events (and platform requests) being taken in; the work waits for them."""

    def __init__(self, hold: float = HOLD_SECONDS) -> None:
        self.hold = hold
        self._count = 0
        self._held = 0
        self._settled = asyncio.Event()
        self._settled.set()

    @property
    def count(self) -> int:
        """Events (and platform requests) being taken in now."""
        return self._count

    @property
    def held(self) -> int:
        """Workers waiting for them now."""
        return self._held

    @contextlib.contextmanager
    def arriving(self) -> Iterator[None]:
        """Counted until the block ends (the event is kept, or refused)."""
        self._count += 1
        self._settled.clear()
        try:
            yield
        finally:
            self._count -= 1
            if not self._count:
                self._settled.set()

    def counting(self, handler: Handler) -> Handler:
        """A platform's HTTP handler, its requests counted from the moment they are read."""

        @functools.wraps(handler)
        async def counted(request: web.Request) -> web.StreamResponse:
            with self.arriving():
                return await handler(request)

        return counted

    async def settled(self) -> None:
        """Until nothing is arriving, or ``hold`` seconds have passed."""
        if not self._count:
            return
        self._held += 1
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._settled.wait(), self.hold)
        finally:
            self._held -= 1
