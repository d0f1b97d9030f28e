"""A running bot: the database, the dispatcher, and one platform, from start to shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

from adapters import ChatPlatform
from agents import aclose_loop_resources
from storage import Database, DatabaseBehindError, check_schema, upgrade

from .dispatcher import Dispatcher
from .errors import StartupError
from .guard import guarded
from .redaction import redactor_for
from .runtime import Runtime
from .settings import Settings
from .teams import TeamCatalog

__all__ = ["Bot", "prepare_database", "serve"]

_log = logging.getLogger(__name__)


async def prepare_database(db: Database, *, embedded: bool) -> None:
    """Bring the embedded SQLite database up to date; check that a configured one is.

    Raises:
        StartupError: a configured database is behind (the message names the command to run).
    """
    if embedded:
        await upgrade(db)
        return
    try:
        await check_schema(db)
    except DatabaseBehindError as exc:
        raise StartupError(str(exc)) from exc


class Bot:
    """One bot process: its database, its dispatcher, one platform; :meth:`run` from start to shutdown."""

    def __init__(self, settings: Settings, platform: ChatPlatform, catalog: TeamCatalog) -> None:
        self.settings = settings
        self.platform = platform
        self.catalog = catalog
        self.dispatcher: Dispatcher | None = None
        self.started = asyncio.Event()  # set once earlier work is recovered and events are taken

    async def run(self, *, until_idle: bool = False) -> None:
        """Run until the platform closes (SIGTERM and SIGINT close it).

        First posts what an earlier process stored but did not post, and goes on with the runs
        it left running. ``until_idle``: when the platform's events end (the console's input
        ends), wait until every run finishes or waits for people, then stop. On the way out,
        running steps get ``settings.drain_seconds`` to finish; their runs go on at the next start.

        Raises:
            StartupError: the database cannot be used as configured.
        """
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.effective_database_url)
        try:
            await prepare_database(db, embedded=settings.database_url is None)
            redactor = redactor_for(settings, self.catalog.configs.values())  # issue 18.3: secrets never leave
            runtime = Runtime(
                db,
                guarded(self.platform, redactor),
                self.catalog,
                settings.data_dir / "work",
                step_timeout=settings.step_timeout,
                redactor=redactor,
            )
            self.dispatcher = dispatcher = Dispatcher(runtime)
            await dispatcher.recover()
            self.started.set()
            with _closing_on_signals(self.platform) as signalled:
                await self.platform.run(dispatcher.handle)
                if until_idle and not signalled:
                    await dispatcher.wait_idle()
            await dispatcher.drain(settings.drain_seconds)
        finally:
            await self.platform.close()
            await db.close()
            await aclose_loop_resources()


async def serve(settings: Settings, platform: ChatPlatform, catalog: TeamCatalog, *, until_idle: bool = False) -> None:
    """Run a :class:`Bot` (see :meth:`Bot.run`)."""
    await Bot(settings, platform, catalog).run(until_idle=until_idle)


@contextlib.contextmanager
def _closing_on_signals(platform: ChatPlatform) -> Iterator[list[int]]:
    """SIGTERM and SIGINT close the platform; yields the signals received (a list, filled later)."""
    loop = asyncio.get_running_loop()
    closing: set[asyncio.Task[None]] = set()
    received: list[int] = []

    def close(signum: int) -> None:
        received.append(signum)
        _log.warning("shutting down: finishing the steps under way")
        task = loop.create_task(platform.close())
        closing.add(task)
        task.add_done_callback(closing.discard)

    installed = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on this platform / thread
            loop.add_signal_handler(signum, close, signum)
            installed.append(signum)
    try:
        yield received
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
