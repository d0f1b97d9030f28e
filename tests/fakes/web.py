"""Serve a platform's HTTP routes on a free local port, as the bot's web server would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Self

from aiohttp import web


async def listen(app: web.Application) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on a free port of 127.0.0.1; returns its runner (to clean up) and the port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


@asynccontextmanager
async def serving(routes: Sequence[web.AbstractRouteDef]) -> AsyncIterator[str]:
    """Serve ``routes`` on 127.0.0.1; yields the base URL (``http://127.0.0.1:PORT``)."""
    app = web.Application()
    app.add_routes(routes)
    runner, port = await listen(app)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


class LocalFake:
    """A fake peer on 127.0.0.1 (``async with``): its routes, the WebSockets connected to it, and a
    condition that tests wait on while the fake changes."""

    def __init__(self) -> None:
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    def add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        self.add_routes(app)
        self._runner, self.port = await listen(app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _until(self, holds: Callable[[], bool], within: float, shown: Callable[[], str]) -> None:
        """Until ``holds()``; a TimeoutError after ``within`` seconds shows ``shown()`` (the last posts)."""
        try:
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(holds)
        except TimeoutError:
            raise TimeoutError(f"the condition did not hold within {within} s; the last posts:\n{shown()}") from None
