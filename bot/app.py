"""A running bot: one lifecycle from start to shutdown.

The bot opens its resources in order and closes them in reverse (an ``AsyncExitStack``):
the database, the runtime log on it (``THREADCREW_RUNTIME_LOGGING``), the work queue
(PostgreSQL's job queue; in memory on SQLite), the web server (when something needs it), the
platforms (each taking events), the dispatcher (which first goes on with what an earlier
process left), the scheduler (unless ``THREADCREW_SCHEDULER=false``). On the way out the
scheduler stops, the dispatcher stops taking events and lets running steps finish, the
platforms close, then the web server, the queue, the runtime log and the database.

On PostgreSQL a process has a role (``THREADCREW_ROLE``): ``intake`` takes events and queues
their threads' work, ``worker`` runs it, ``all`` both. SQLite is one process doing all.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeAlias

from aiohttp.web import AbstractRouteDef, RouteDef

from adapters import ChatPlatform
from adapters.arrivals import Arrivals
from agents import aclose_loop_resources
from agents.llm import use_seed_cache
from storage import Database, DatabaseBehindError, check_schema, upgrade

from .dispatcher import Dispatcher, QueueFactory
from .errors import StartupError
from .guard import guarded
from .logs import use_redactor
from .redaction import redactor_for
from .runtime import Runtime
from .runtime_log import storage_runtime_logging
from .scheduling.service import scheduling_service
from .settings import Settings
from .teams import TeamCatalog
from .web import ReadyCheck, WebServer
from .webconsole import Console, mount_console
from .workqueue.gate import StepGate
from .workqueue.local import LocalQueue

__all__ = ["Bot", "PlatformSource", "check_role", "on_job_queue", "prepare_database", "serve"]

_log = logging.getLogger(__name__)

PlatformSource: TypeAlias = ChatPlatform | Callable[[Database], ChatPlatform]
"""A platform, or a function that builds one on the bot's database (Slack's OAuth installations live there)."""


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


def check_role(settings: Settings, db: Database) -> None:
    """Roles other than ``all`` share work through PostgreSQL's job queue.

    Raises:
        StartupError: another role on SQLite (the message says what to do).
    """
    if settings.role != "all" and not on_job_queue(db):
        raise StartupError(
            f"THREADCREW_ROLE={settings.role} needs PostgreSQL: on SQLite one process takes the events and "
            "runs the conversations (role all). Unset THREADCREW_ROLE, or set THREADCREW_DATABASE_URL to a "
            "PostgreSQL database (see the README's Scaling out section)"
        )


def on_job_queue(db: Database) -> bool:
    """Whether the conversations' work runs on the job queue (PostgreSQL) rather than in this process."""
    return db.url.get_backend_name() == "postgresql"


class Bot:
    """One bot process: its database, web server, platforms and dispatcher; :meth:`run` from start to shutdown.

    Args:
        settings: the deployment settings.
        platforms: the platforms to serve (each by its own name), or functions that build them.
        catalog: the teams.
        intake: take the platforms' events and go on with stored work (``False``: only run what
            is started here with ``dispatcher.start_run``, until :meth:`close`, as ``threadcrew
            start`` does beside a running bot).
    """

    def __init__(
        self,
        settings: Settings,
        platforms: PlatformSource | Sequence[PlatformSource],
        catalog: TeamCatalog,
        *,
        intake: bool = True,
    ) -> None:
        self.settings = settings
        self.sources = list(platforms) if isinstance(platforms, Sequence) else [platforms]
        self.catalog = catalog
        self.intake = intake
        self.platforms: dict[str, ChatPlatform] = {}
        self.db: Database | None = None
        self.web: WebServer | None = None
        self.console: Console | None = None  # when the web console is on
        self.dispatcher: Dispatcher | None = None
        self.started = asyncio.Event()  # set once earlier work is recovered and events are taken
        self._closing = asyncio.Event()

    async def run(self, *, until_idle: bool = False) -> None:
        """Run until closed (SIGTERM, SIGINT, :meth:`close`, or a platform's events end).

        ``until_idle``: when a platform's events end (the console's input ends), wait until every
        run finishes or waits for people, then stop. On the way out, running steps get
        ``settings.drain_seconds`` to finish; their runs go on at the next start.

        Raises:
            StartupError: the database, the web server or a platform cannot be used as configured.
        """
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        async with contextlib.AsyncExitStack() as stack:
            # From the first moment: a SIGTERM while starting (a deploy, a slow start) closes the
            # bot once it has started, instead of killing it with a step under way.
            signals = contextlib.ExitStack()
            stack.callback(signals.close)
            signalled = signals.enter_context(_closing_on_signals(self._close_now))
            stack.push_async_callback(aclose_loop_resources)
            self.db = db = Database(settings.effective_database_url)
            stack.push_async_callback(db.close)
            stack.enter_context(use_seed_cache(db.stores.llm_cache))  # cache_seed's answers: in the database
            await prepare_database(db, embedded=settings.database_url is None)
            check_role(settings, db)
            self.platforms = platforms = self._build_platforms(db)
            redactor = redactor_for(settings, self.catalog.configs.values())  # secrets never leave
            use_redactor(redactor)  # nor reach the logs
            if settings.runtime_logging:  # until the steps under way are drained (closed after them)
                await stack.enter_async_context(storage_runtime_logging(db, redactor.json))
            runtime = Runtime(
                db,
                {name: guarded(p, redactor) for name, p in platforms.items()},
                self.catalog,
                settings.data_dir / "work",
                step_timeout=settings.step_timeout,
                redactor=redactor,
                steps=StepGate(settings.max_steps),
            )
            self.dispatcher = dispatcher = Dispatcher(
                runtime,
                queue=self._queue(db),
                retry_base=settings.retry_seconds,
                give_up_after=settings.retry_give_up_after,
            )
            if isinstance(dispatcher.queue, AbstractAsyncContextManager):
                await stack.enter_async_context(dispatcher.queue)
            takes_events = self.intake and settings.role != "worker"
            if self.intake and self._needs_web(platforms, takes_events=takes_events):
                self.web = web = self._web(db, platforms if takes_events else {}, runtime.arrivals)
                if settings.console and takes_events:
                    self.console = Console(settings, db, dispatcher, self.catalog)
                    mount_console(web, self.console)
                web.add_routes(runtime.metrics.routes(db, dispatcher))
                await stack.enter_async_context(web)
            intake = [
                asyncio.create_task(p.run(dispatcher.handle), name=f"platform {n}")
                for n, p in platforms.items()
                if takes_events
            ]
            stack.push_async_callback(self._stop_platforms, intake)
            await dispatcher.open(recover=self.intake)
            stack.push_async_callback(dispatcher.drain, settings.drain_seconds)
            if settings.scheduler and self.intake:  # after the dispatcher: it starts runs and answers waits
                await stack.enter_async_context(scheduling_service(dispatcher, settings))
            self.started.set()
            with signals:  # taken back once serving ends: a second signal while draining stops at once
                try:
                    await self._serve(intake, until_idle=until_idle, signalled=signalled)
                finally:
                    dispatcher.stop()  # no step starts while the rest shuts down

    def _queue(self, db: Database) -> QueueFactory:
        """Where the threads' work waits and runs: this process's memory, or PostgreSQL's job queue."""
        if not on_job_queue(db):
            return LocalQueue
        from .workqueue.jobs import JobQueue

        settings = self.settings
        works = self.intake and settings.role != "intake"
        return lambda dispatcher: JobQueue(
            dispatcher,
            url=db.url,
            work=works,
            concurrency=settings.queue_concurrency,
            stall_seconds=settings.queue_stall_seconds,
            drain_seconds=settings.drain_seconds,
        )

    async def start(self, *, until_idle: bool = False) -> asyncio.Task[None]:
        """Run the bot in a task; returns the task once the bot has started (see :meth:`run`).

        Raises:
            StartupError: (and whatever else) what kept the bot from starting.
        """
        running = asyncio.create_task(self.run(until_idle=until_idle))
        started = asyncio.create_task(self.started.wait())
        await asyncio.wait([running, started], return_when=asyncio.FIRST_COMPLETED)
        if running.done():
            started.cancel()
            await running  # it could not start: raises why
        return running

    async def _serve(self, intake: list[asyncio.Task[None]], *, until_idle: bool, signalled: list[int]) -> None:
        closing: asyncio.Task[Any] = asyncio.create_task(self._closing.wait())
        done, pending = await asyncio.wait({closing, *intake}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending - set(intake):
            task.cancel()
        for task in done & set(intake):
            task.result()  # a platform that failed says why
        if until_idle and not signalled and not self._closing.is_set():
            assert self.dispatcher is not None
            await self.dispatcher.wait_idle()

    def _build_platforms(self, db: Database) -> dict[str, ChatPlatform]:
        platforms: dict[str, ChatPlatform] = {}
        for source in self.sources:
            platform: ChatPlatform = (
                source if callable(getattr(source, "post", None)) else source(db)  # type: ignore[assignment,operator]
            )
            if platform.name in platforms:
                raise StartupError(f"the platform {platform.name!r} is configured twice; name each one once")
            platforms[platform.name] = platform
        return platforms

    def _needs_web(self, platforms: dict[str, ChatPlatform], *, takes_events: bool) -> bool:
        if not takes_events:  # a worker: only its health and metrics
            return self.settings.health
        return self.settings.health or self.settings.console or any(p.routes() for p in platforms.values())

    def _web(self, db: Database, platforms: dict[str, ChatPlatform], arrivals: Arrivals) -> WebServer:
        web = WebServer(self.settings.web_host, self.settings.http_port)
        web.add_check("database", lambda: _database_problem(db))
        for name, platform in platforms.items():
            web.add_routes([_counted(route, arrivals) for route in platform.routes()])
            web.add_check(name, _connected_check(platform))
        return web

    async def _stop_platforms(self, intake: list[asyncio.Task[None]]) -> None:
        await asyncio.gather(*(p.close() for p in self.platforms.values()), return_exceptions=True)
        results = await asyncio.gather(*intake, return_exceptions=True)
        for name, result in zip(self.platforms, results, strict=False):
            if isinstance(result, Exception):
                _log.warning("the %s platform stopped with an error: %s", name, result)

    async def close(self) -> None:
        """Stop taking events and shut down (as SIGTERM does)."""
        self._close_now()

    def _close_now(self) -> None:
        """From this moment no step starts (those under way finish), and the bot shuts down."""
        if self.dispatcher is not None and self.started.is_set():  # while starting: once started
            self.dispatcher.stop()
        self._closing.set()


def _counted(route: AbstractRouteDef, arrivals: Arrivals) -> AbstractRouteDef:
    """A platform's route whose requests count as arrivals: the work waits for their answers."""
    if not isinstance(route, RouteDef):
        return route
    return RouteDef(route.method, route.path, arrivals.counting(route.handler), route.kwargs)


def _connected_check(platform: ChatPlatform) -> ReadyCheck:
    async def connected() -> str | None:
        return None if platform.connected else "not connected"

    return connected


async def _database_problem(db: Database) -> str | None:
    try:
        await db.ping()
    except Exception as exc:
        return f"does not answer ({type(exc).__name__})"
    return None


async def serve(
    settings: Settings,
    platforms: PlatformSource | Sequence[PlatformSource],
    catalog: TeamCatalog,
    *,
    until_idle: bool = False,
) -> None:
    """Run a :class:`Bot` (see :meth:`Bot.run`) as the process's bot.

    Once it has started, what the process built to start (modules, clients, teams: a few hundred
    thousand objects) is moved out of the garbage collector's sight: a full collection otherwise
    walks all of it, holding the event loop for 0.1-0.2 s, in the middle of a burst of events that
    wait for their answers. Only the process's own bot does this (tests start many bots in one
    process, and a frozen object whose cycle is broken later is never collected).
    """
    running = await Bot(settings, platforms, catalog).start(until_idle=until_idle)
    gc.collect()
    gc.freeze()
    await running


@contextlib.contextmanager
def _closing_on_signals(close: Callable[[], None]) -> Iterator[list[int]]:
    """SIGTERM and SIGINT close the bot (``close`` is called in the signal's own loop turn: no step
    starts after the line that says so); yields the signals received (a list, filled later)."""
    loop = asyncio.get_running_loop()
    received: list[int] = []

    def on_signal(signum: int) -> None:
        received.append(signum)
        close()
        _log.warning("shutting down: finishing the steps under way")

    installed = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on this platform / thread
            loop.add_signal_handler(signum, on_signal, signum)
            installed.append(signum)
    try:
        yield received
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
