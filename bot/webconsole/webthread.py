"""The web thread's chat page (``threadcrew run --platform web``): start a thread, write in it,
press its buttons, see the agents' posts (live), as the signed-in operator.

The page reads the web platform's threads (adapters/web.py); what people do becomes that
platform's events, so a web thread runs exactly as a Slack or Discord thread does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from adapters import Posted
from adapters.web import PERSON, WebThreadPlatform
from storage import Database

from ..platform_state import DatabaseStateStore
from .actions import operator
from .auth import PREFIX, operator_name
from .pages import file_response
from .present import INLINE_IMAGES
from .uploads import attached

if TYPE_CHECKING:
    from .console import Console

__all__ = ["WebThreadPages", "web_thread_platform"]


class WebThreadPages:
    def __init__(self, console: Console) -> None:
        self.console = console

    async def _platform(self) -> WebThreadPlatform:
        """The web platform, its kept posts restored (the page may be asked for before it runs)."""
        found = self.console.served("web")  # the runtime posts through the redactor; the page reads the platform
        if not isinstance(found, WebThreadPlatform):
            raise web.HTTPNotFound(text="The web thread is off: run threadcrew with --platform web.")
        await found.restore()
        return found

    async def _posts(self, thread_id: str) -> list[Posted]:
        posts = (await self._platform()).in_thread(thread_id)
        if not posts:
            raise web.HTTPNotFound(text=f"there is no web thread {thread_id!r}")
        return posts

    async def threads(self, request: web.Request) -> web.Response:
        platform = await self._platform()
        threads = [(tid, platform.in_thread(tid)[0].text) for tid in platform.threads()]
        return self.console.render("web_threads.html", request, threads=threads)

    async def start(self, request: web.Request) -> web.Response:
        form = await request.post()
        text = str(form.get("text", "")).strip()
        if not text:
            raise web.HTTPBadRequest(text="write the team's task")
        images, skipped = await attached(form)
        thread = await (await self._platform()).start(operator(operator_name(request)), text, images, skipped)
        return web.Response(status=303, headers={"Location": f"{PREFIX}/web/{thread.thread_id}"})

    async def thread(self, request: web.Request) -> web.Response:
        thread_id = request.match_info["thread"]
        return self.console.render(
            "web_thread.html", request, thread_id=thread_id, posts=await self._fragment(request, thread_id)
        )

    async def _fragment(self, request: web.Request, thread_id: str) -> str:
        return self.console.fragment(
            "_web_posts.html",
            request,
            thread_id=thread_id,
            posts=await self._posts(thread_id),
            person=PERSON,
            working=(await self._platform()).working(thread_id),
            images=INLINE_IMAGES,
        )

    async def say(self, request: web.Request) -> web.Response:
        thread_id = request.match_info["thread"]
        await self._posts(thread_id)
        form = await request.post()
        text = str(form.get("text", "")).strip()
        images, skipped = await attached(form)
        if not (text or images or skipped):
            raise web.HTTPBadRequest(text="write something to say, or attach an image")
        await (await self._platform()).write(thread_id, operator(operator_name(request)), text, images, skipped)
        return self._back(thread_id)

    async def press(self, request: web.Request) -> web.Response:
        """A button of a post: which one is read from the post itself, never from the form."""
        thread_id = request.match_info["thread"]
        form = await request.post()
        ref, index = str(form.get("ref", "")), str(form.get("index", ""))
        post = next((p for p in await self._posts(thread_id) if p.id == ref), None)
        buttons = post.message.buttons if post is not None else ()
        if not index.isdigit() or int(index) >= len(buttons):
            raise web.HTTPBadRequest(text="that button is not in this thread")
        await (await self._platform()).click(thread_id, operator(operator_name(request)), buttons[int(index)], ref)
        return self._back(thread_id)

    async def file(self, request: web.Request) -> web.Response:
        thread_id, ref = request.match_info["thread"], request.match_info["post"]
        post = next((p for p in await self._posts(thread_id) if p.id == ref), None)
        index = int(request.match_info["index"])
        if post is None or index >= len(post.message.attachments):
            raise web.HTTPNotFound(text="no such file")
        found = post.message.attachments[index]
        return file_response(found.name, found.mime_type, found.data)

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: the thread's posts, whenever they change."""
        thread_id = request.match_info["thread"]
        await self._posts(thread_id)
        platform = await self._platform()
        shown: str | None = None

        async def poll() -> list[tuple[str, str]]:
            nonlocal shown
            html = await self._fragment(request, thread_id)
            if html == shown:
                return []
            shown = html
            return [("posts", html)]

        with platform.watch() as changed:
            return await self.console.stream(request, poll, changed)

    @staticmethod
    def _back(thread_id: str) -> web.Response:
        return web.Response(status=303, headers={"Location": f"{PREFIX}/web/{thread_id}"})


def web_thread_platform(db: Database) -> WebThreadPlatform:
    """The web thread, keeping its posts in ``db`` (a restarted bot shows its threads as they were)."""
    return WebThreadPlatform(DatabaseStateStore(db, "web"))
