"""The process's one web server (aiohttp): platforms' HTTP routes, ``/healthz`` and ``/readyz``.

Slack's HTTP mode mounts its request handler here instead of running a server of its own;
the web console (``bot.webconsole``) is mounted here as a sub-application. ``/healthz``
answers while the process is alive; ``/readyz`` asks each registered check (the database
answers, every platform is connected) and says which part is down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType

from aiohttp import web

from .errors import StartupError

__all__ = ["ReadyCheck", "WebServer"]

_log = logging.getLogger(__name__)

ReadyCheck = Callable[[], Awaitable[str | None]]
"""A part of the bot that may be down: returns None when it is up, else what is wrong."""

CHECK_SECONDS = 5.0
# Connections the kernel holds for the server while the event loop is busy (aiohttp's default is
# 128): Slack opens one per event, and one that finds the queue full is dropped and tried again by
# the sender's TCP only a second later (the kernel caps this at net.core.somaxconn).
LISTEN_BACKLOG = 4096


class WebServer:
    """One aiohttp server for the process; ``async with`` it to listen, routes added before that."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port  # 0 picks a free port; the chosen one is here once listening
        self.app = web.Application()
        self.app.add_routes([web.get("/healthz", self._healthz), web.get("/readyz", self._readyz)])
        self._checks: dict[str, ReadyCheck] = {}
        self._runner: web.AppRunner | None = None

    def add_routes(self, routes: Sequence[web.AbstractRouteDef]) -> None:
        """Serve ``routes`` (before the server starts)."""
        self.app.add_routes(routes)

    def add_subapp(self, prefix: str, app: web.Application) -> None:
        """Serve ``app`` (its own middlewares, its shutdown hooks) under ``prefix`` (before the server starts)."""
        self.app.add_subapp(prefix, app)

    def add_check(self, name: str, check: ReadyCheck) -> None:
        """Make ``/readyz`` ask ``check`` under ``name``."""
        self._checks[name] = check

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    async def __aenter__(self) -> WebServer:
        """Listen.

        Raises:
            StartupError: the address cannot be used (the port is taken, the host is not this machine's).
        """
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, backlog=LISTEN_BACKLOG)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise StartupError(
                f"the web server cannot listen on {self.host}:{self.port} ({exc.strerror or exc}); "
                "set THREADCREW_HTTP_PORT (and THREADCREW_HTTP_HOST) to a free address"
            ) from exc
        server = site._server
        if server is not None and server.sockets:  # type: ignore[attr-defined]
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self._runner = runner
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def problems(self) -> dict[str, str]:
        """What is down, by part (empty when everything is ready)."""
        names = list(self._checks)
        results = await asyncio.gather(*(self._ask(self._checks[n]) for n in names))
        return {name: problem for name, problem in zip(names, results, strict=True) if problem is not None}

    async def _readyz(self, request: web.Request) -> web.Response:
        problems = await self.problems()
        if not problems:
            return web.Response(text="ready\n")
        text = "".join(f"{name}: {problem}\n" for name, problem in sorted(problems.items()))
        return web.Response(status=503, text=text)

    @staticmethod
    async def _ask(check: ReadyCheck) -> str | None:
        try:
            async with asyncio.timeout(CHECK_SECONDS):
                return await check()
        except TimeoutError:
            return f"no answer within {CHECK_SECONDS:g} s"
        except Exception as exc:
            _log.info("a readiness check failed: %r", exc)
            return type(exc).__name__
