"""The console's pages: sign-in, the conversations, a transcript (live), and the stored files."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from urllib.parse import quote

from aiohttp import web

from storage import ConversationRecord, NotFoundError

from .auth import NEW_SESSION, PREFIX, SESSION, SIGNED_OUT, Session, valid_name
from .present import INLINE_IMAGES, message_view, stored_file, totals

if TYPE_CHECKING:
    from .console import Console

__all__ = ["STATUS_FILTERS", "Pages", "file_response", "next_page", "requested_conversation"]

# What the list can be narrowed to: a stored status, and for waits, what they wait for.
STATUS_FILTERS: dict[str, tuple[str, frozenset[str] | None]] = {
    "running": ("running", None),
    "waiting for people": ("waiting", frozenset({"question", "speaker"})),
    "waiting for approval": ("waiting", frozenset({"approval"})),
    "paused": ("paused", None),
    "retrying a post": ("retrying", None),
    "finished": ("finished", None),
    "failed": ("failed", None),
}
TIME_FILTERS = {"last hour": 1, "last day": 24, "last week": 24 * 7}
_WAIT_LABELS = {"approval": "waiting for approval", "question": "waiting for people", "speaker": "waiting for people"}


class Pages:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.stores = console.db.stores

    # -- signing in ------------------------------------------------------------------------------

    async def sign_in_form(self, request: web.Request) -> web.Response:
        return self.console.render("sign_in.html", request, next=next_page(request.query.get("next")), error=None)

    async def sign_in(self, request: web.Request) -> web.Response:
        form = await request.post()
        name, token = str(form.get("name", "")).strip(), str(form.get("token", ""))
        target = next_page(str(form.get("next", "")))
        address = request.remote or "?"
        failures = self.console.failed_sign_ins
        if failures.blocked(address):
            wait = "Too many wrong tokens from your address: wait a minute before you try again."
            return self.console.render("sign_in.html", request, status=429, next=target, error=wait)
        error: str | None = None
        if not valid_name(name):
            error = "Your name: 1 to 40 letters, digits, dots, dashes or underscores."
        elif not self.console.codec.token_matches(token):
            failures.failed(address)
            error = "That is not the console's token (THREADCREW_CONSOLE_TOKEN)."
        if error is not None:
            return self.console.render("sign_in.html", request, status=403, next=target, error=error)
        request[NEW_SESSION] = Session.signed_in(name)
        return web.Response(status=303, headers={"Location": target})

    async def sign_out(self, request: web.Request) -> web.Response:
        request[SIGNED_OUT] = True
        return web.Response(status=303, headers={"Location": f"{PREFIX}/sign-in"})

    # -- the conversations -----------------------------------------------------------------------

    async def conversations(self, request: web.Request) -> web.Response:
        query = request.query
        platform, team = query.get("platform") or None, query.get("team") or None
        status, since = query.get("status", ""), query.get("since", "")
        stored, kinds = STATUS_FILTERS.get(status, (None, None))
        hours = TIME_FILTERS.get(since)
        after = self.console.now() - dt.timedelta(hours=hours) if hours else None
        records = await self.stores.conversations.listing(
            platform=platform, team=team, statuses=[stored] if stored else None, updated_after=after
        )
        waiting = {w.conversation_id: w.kind for w in await self.stores.waits.open_waits()}
        if kinds is not None:
            records = [r for r in records if waiting.get(r.id) in kinds]
        links = await self.console.links.of(records)
        rows = [{"record": r, "status": _status_label(r, waiting.get(r.id)), "link": links.get(r.id)} for r in records]
        return self.console.render(
            "conversations.html",
            request,
            rows=rows,
            chosen={"platform": platform or "", "team": team or "", "status": status, "since": since},
            platforms=sorted(self.console.dispatcher.rt.served | {r.platform for r in records}),
            teams=self.console.catalog.names,
            statuses=list(STATUS_FILTERS),
            times=list(TIME_FILTERS),
        )

    # -- a transcript ----------------------------------------------------------------------------

    async def transcript(self, request: web.Request) -> web.Response:
        record = await self._record(request)
        messages = await self.stores.messages.list_since(record.id)
        views = [message_view(m) for m in messages]
        replies, choices = totals(views)
        return self.console.render(
            "transcript.html",
            request,
            record=record,
            link=await self.console.links.link(record),
            messages=views,
            replies=replies,
            choices=choices,
            last_seq=messages[-1].seq if messages else 0,
            panel=await self.panel(request, record),
            notice=_notice(request),
        )

    async def panel(self, request: web.Request, record: ConversationRecord) -> str:
        """The transcript's side panel: status, what it waits for (with its actions), waits, usage."""
        waits = await self.stores.waits.of_conversation(record.id)
        open_wait = next((w for w in reversed(waits) if w.is_open), None)
        usage = await self.stores.usage.totals(conversation_id=record.id)
        return self.console.fragment(
            "_panel.html",
            request,
            record=record,
            status=_status_label(record, open_wait.kind if open_wait else None),
            open_wait=open_wait,
            waits=waits,
            usage=sorted(usage.items()),
            served=record.platform in self.console.dispatcher.rt.served,
        )

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: each new message (as HTML, escaped), and the panel when it changes."""
        record = await self._record(request)
        try:
            after = int(request.query.get("after", "0"))
        except ValueError:
            raise web.HTTPBadRequest(text="after: the last message number shown (an integer)") from None
        shown_panel: str | None = None

        async def poll() -> list[tuple[str, str]]:
            nonlocal after, record, shown_panel
            sent = []
            for message in await self.stores.messages.list_since(record.id, after, limit=100):
                sent.append(("message", self.console.fragment("_message.html", request, m=message_view(message))))
                after = message.seq
            record = await self.stores.conversations.get(record.id)
            panel = await self.panel(request, record)
            if panel != shown_panel:
                sent.append(("panel", panel))
                shown_panel = panel
            return sent

        with self.console.db.changes.watch(record.id) as changed:
            return await self.console.stream(request, poll, changed)

    async def file(self, request: web.Request) -> web.Response:
        """A stored file's bytes: known image types inline, anything else as a download."""
        try:
            message = await self.stores.messages.get(int(request.match_info["message"]))
        except NotFoundError:
            raise web.HTTPNotFound(text="no such message") from None
        found = stored_file(message, int(request.match_info["index"]))
        if found is None:
            raise web.HTTPNotFound(text="that message has no such file")
        return file_response(found.name, found.mime_type, found.data)

    async def _record(self, request: web.Request) -> ConversationRecord:
        return await requested_conversation(self.console, request)


async def requested_conversation(console: Console, request: web.Request) -> ConversationRecord:
    """The conversation the URL names (its ``id``).

    Raises:
        HTTPNotFound: there is none.
    """
    try:
        return await console.db.stores.conversations.get(int(request.match_info["id"]))
    except NotFoundError:
        raise web.HTTPNotFound(text="no such conversation") from None


def _notice(request: web.Request) -> str:
    """What the operator just did (``?done=ACTION``): said in our words, never the link's."""
    from .actions import ACTIONS

    done = request.query.get("done", "")
    return f"{done} sent as console:{request[SESSION].name}" if done in ACTIONS else ""


def _status_label(record: ConversationRecord, wait_kind: str | None) -> str:
    if record.status == "waiting" and wait_kind is not None:
        return _WAIT_LABELS.get(wait_kind, "waiting")
    return record.status


def next_page(target: str | None) -> str:
    """Where to go after signing in: a console page only (never another site)."""
    if target and target.startswith(f"{PREFIX}/") and not target.startswith("//") and "\\" not in target:
        return target
    return f"{PREFIX}/"


def file_response(name: str, mime_type: str, data: bytes) -> web.Response:
    """A stored file: a known image type inline, anything else only as a download, never sniffed."""
    inline = mime_type in INLINE_IMAGES
    return web.Response(
        body=data,
        headers={
            "Content-Type": mime_type if inline else "application/octet-stream",
            "Content-Disposition": f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{quote(name, safe='')}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
