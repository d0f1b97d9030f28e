"""Serve a platform's HTTP routes on a free local port, as the bot's web server would."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from aiohttp import web


@asynccontextmanager
async def serving(routes: Sequence[web.AbstractRouteDef]) -> AsyncIterator[str]:
    """Serve ``routes`` on 127.0.0.1; yields the base URL (``http://127.0.0.1:PORT``)."""
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
