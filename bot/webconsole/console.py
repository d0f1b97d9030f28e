"""The console as an aiohttp sub-application of the bot's one web server.

It reads the database (conversations, messages, waits, usage) and acts through the dispatcher,
as a person in the thread would: the same events, the same rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from adapters import ChatPlatform
from adapters.files import MAX_IMAGE_BYTES, MAX_IMAGES
from storage import Database

from ..dispatcher import Dispatcher
from ..errors import StartupError
from ..guard import GuardedPlatform
from ..settings import Settings
from ..teams import TeamCatalog
from ..web import WebServer
from .auth import PREFIX, SESSION, FailedSignIns, SessionCodec, guard
from .links import ThreadLinks
from .oidc import providers_from

__all__ = ["Console", "mount_console"]

HERE = Path(__file__).parent
MIN_TOKEN = 16
_LOOPBACK = ("127.0.0.1", "::1", "localhost")
_log = logging.getLogger(__name__)


class Console:
    """The web console's parts: what it reads, what it acts through, how it renders.

    Raises:
        StartupError: ``THREADCREW_CONSOLE_TOKEN`` is not set, or too short to be a secret.
    """

    def __init__(self, settings: Settings, db: Database, dispatcher: Dispatcher, catalog: TeamCatalog) -> None:
        token = settings.console_token.get_secret_value() if settings.console_token is not None else ""
        if len(token.strip()) < MIN_TOKEN:
            problem = "is not set" if not token.strip() else f"is shorter than {MIN_TOKEN} characters"
            raise StartupError(
                f"the web console needs a sign-in token, and THREADCREW_CONSOLE_TOKEN {problem}: set it to a long "
                "random secret (for example the output of "
                "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`), "
                "or turn the console off with THREADCREW_CONSOLE=false"
            )
        if settings.web_host not in _LOOPBACK:
            _log.warning(
                "the web console is served on %s, not only on this machine: put it behind https "
                "(and set THREADCREW_CONSOLE_SECURE_COOKIE=true)",
                settings.web_host,
            )
        self.db = db
        self.dispatcher = dispatcher
        self.catalog = catalog
        self.codec = SessionCodec(token, settings.console_session_hours * 3600, secure=settings.console_secure_cookie)
        self.failed_sign_ins = FailedSignIns()
        self.providers = providers_from(settings)  # sign-in with OpenID Connect / Slack, where configured
        self.public_url = settings.console_url.rstrip("/") if settings.console_url else None
        self.links = ThreadLinks(self)
        # how often a live page looks for changes nobody told this process of (another bot process's)
        self.fallback_poll_seconds = 10.0
        self.closing = asyncio.Event()  # set on shutdown: live transcripts end
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,  # every template, whatever its name: agent text is always escaped
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.globals["providers"] = [(p.key, p.label) for p in self.providers]
        self.templates.globals.update(max_images=MAX_IMAGES, max_image_mib=MAX_IMAGE_BYTES // 1024 // 1024)

    def render(self, template: str, request: web.Request, status: int = 200, **context: Any) -> web.Response:
        """A page from ``template``, with the session (its operator and CSRF token) in the context."""
        html = self.fragment(template, request, **context)
        return web.Response(text=html, status=status, content_type="text/html")

    def fragment(self, template: str, request: web.Request, **context: Any) -> str:
        session = request[SESSION]
        return self.templates.get_template(template).render(
            base=PREFIX, operator=session.name, csrf=session.csrf, **context
        )

    async def stream(
        self,
        request: web.Request,
        poll: Callable[[], Awaitable[list[tuple[str, str]]]],
        changed: asyncio.Event,
    ) -> web.StreamResponse:
        """Server-sent events: what ``poll`` returns (event name, data), until the browser leaves or
        the bot shuts down.

        Args:
            poll: what changed since it was last called.
            changed: set when what ``poll`` reads changed in this process: ``poll`` runs then, and
                every ``fallback_poll_seconds`` for other processes' changes.
        """
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )
        await response.prepare(request)
        with contextlib.suppress(ConnectionResetError):
            while not self.closing.is_set():
                changed.clear()  # before reading: a change while reading sets it again
                for name, data in await poll():
                    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
                    await response.write(f"event: {name}\n{lines}\n".encode())
                await self._until_changed(changed)
        return response

    async def _until_changed(self, changed: asyncio.Event) -> None:
        """Until ``changed`` is set, the bot shuts down, or it is time to look anyway."""
        wakers = [asyncio.ensure_future(self.closing.wait()), asyncio.ensure_future(changed.wait())]
        try:
            await asyncio.wait(wakers, timeout=self.fallback_poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waker in wakers:
                waker.cancel()

    def now(self) -> dt.datetime:
        return self.db.clock()

    def served(self, platform: str) -> ChatPlatform | None:
        """The platform of that name as this process serves it (under the redactor's wrapper), or None."""
        found = self.dispatcher.rt.platforms.get(platform)
        return found.platform if isinstance(found, GuardedPlatform) else found

    def app(self) -> web.Application:
        """The sub-application to mount under ``/console``."""
        from .actions import Actions
        from .pages import Pages
        from .reports import Reports
        from .sso import SingleSignOn
        from .webthread import WebThreadPages

        app = web.Application(middlewares=[guard(self.codec)])
        pages, actions, reports, threads = Pages(self), Actions(self), Reports(self), WebThreadPages(self)
        app.router.add_get("/", pages.conversations, name="conversations")
        sign_in = app.router.add_resource("/sign-in", name="sign_in")
        sign_in.add_route("GET", pages.sign_in_form)
        sign_in.add_route("POST", pages.sign_in)
        sso = SingleSignOn(self)
        app.router.add_get("/sign-in/{provider}", sso.start, name="sign_in_with")
        app.router.add_get("/sign-in/{provider}/callback", sso.finish, name="signed_in_with")
        app.router.add_post("/sign-out", pages.sign_out, name="sign_out")
        app.router.add_get(r"/c/{id:\d+}", pages.transcript, name="transcript")
        app.router.add_get(r"/c/{id:\d+}/events", pages.events, name="events")
        app.router.add_post(r"/c/{id:\d+}/act", actions.act, name="act")
        app.router.add_get(r"/files/{message:\d+}/{index:\d+}", pages.file, name="file")
        app.router.add_get("/usage", reports.usage, name="usage")
        app.router.add_get("/teams", reports.teams, name="teams")
        app.router.add_get("/schedules", reports.schedules, name="schedules")
        app.router.add_post("/schedules/{name}/act", reports.schedule_act, name="schedule_act")
        web_threads = app.router.add_resource("/web", name="web_threads")
        web_threads.add_route("GET", threads.threads)
        web_threads.add_route("POST", threads.start)
        app.router.add_get("/web/{thread}", threads.thread, name="web_thread")
        app.router.add_get("/web/{thread}/events", threads.events, name="web_events")
        app.router.add_post("/web/{thread}/say", threads.say, name="web_say")
        app.router.add_post("/web/{thread}/press", threads.press)
        app.router.add_get(r"/web/{thread}/files/{post}/{index:\d+}", threads.file, name="web_file")
        app.router.add_static("/static", HERE / "static", name="static")
        app.on_shutdown.append(self._shutdown)
        return app

    async def _shutdown(self, app: web.Application) -> None:
        self.closing.set()


def mount_console(server: WebServer, console: Console) -> None:
    """Serve ``console`` under ``/console`` on ``server``."""
    server.add_subapp(PREFIX, console.app())
