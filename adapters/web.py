"""The web thread: a chat platform whose threads are read and written through a web page (the
bot's web console serves it), to try a team without Slack or Discord.

People's messages are kept in the thread beside the bot's posts (as on a chat platform), so the
page shows the whole conversation. Given a :class:`PostStore`, every post (and every change to
one) is kept there as it happens, and a restarted bot shows the threads as they were; a streamed
reply is kept once it is finished (a preview cut short by a crash is not worth keeping: the
outbox posts the stored reply again).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import re
import time
from typing import Any, Protocol

from .memory import InMemoryPlatform, Posted
from .thread import (
    Attachment,
    Author,
    Button,
    Capabilities,
    EventHandler,
    OutboundMessage,
    Persona,
    SkippedFile,
    ThreadEvent,
    ThreadRef,
)

__all__ = ["PERSON", "PostStore", "WebThreadPlatform"]

PERSON = "person"  # the persona name of people's messages in a web thread
_PREFIX = "post:"
_NUMBERED = re.compile(r"[mh](\d+)")


class PostStore(Protocol):
    """Where the web thread keeps its posts across restarts (the bot's ``platform_state`` table)."""

    async def put(self, key: str, value: Any) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def items(self, prefix: str = "") -> list[tuple[str, Any]]:
        """Every key starting with ``prefix``, with its value, in key order."""
        ...


class WebThreadPlatform(InMemoryPlatform):
    """Threads for a browser: people start them, write in them, press buttons.

    Args:
        store: where posts are kept across restarts; None keeps them for this process only.
    """

    def __init__(self, store: PostStore | None = None) -> None:
        super().__init__(
            "web",
            "web",
            name="web",
            capabilities=Capabilities(
                personas=True, buttons=True, edits=True, streaming=True, uploads=True, typing=True
            ),
        )
        self.store = store
        self._threads = itertools.count(1)
        self._keys = itertools.count(1)
        self._order = itertools.count(1)
        self._stored_as: dict[str, str] = {}  # post id -> its key in the store
        self._restoring = asyncio.Lock()
        self._restored = store is None

    # -- keeping posts -------------------------------------------------------------------------------

    async def restore(self) -> None:
        """Take back the posts the store keeps (once; every other method does it first)."""
        async with self._restoring:
            if self._restored:
                return
            assert self.store is not None
            kept = [(key, _posted_from_json(value)) for key, value in await self.store.items(_PREFIX)]
            self.posts[:0] = [posted for _, posted in kept]
            self._stored_as.update({posted.id: key for key, posted in kept})
            # Numbers go on after the kept ones: a new post never takes an old post's id or place.
            numbers = [int(m.group(1)) for _, p in kept if (m := _NUMBERED.match(p.id))]
            self._ids = itertools.count(max(numbers, default=0) + 1)
            self._order = itertools.count(max((int(k.removeprefix(_PREFIX)) for k, _ in kept), default=0) + 1)
            self._restored = True

    async def _keep(self, posted: Posted) -> None:
        if self.store is None:
            return
        key = self._stored_as.get(posted.id)
        if key is None:
            key = self._stored_as[posted.id] = f"{_PREFIX}{next(self._order):012d}"
        await self.store.put(key, _posted_json(posted))

    async def _kept(self, message_id: str) -> None:
        found = next((p for p in self.posts if p.id == message_id), None)
        if found is not None:
            await self._keep(found)

    async def run(self, on_event: EventHandler) -> None:
        await self.restore()
        await super().run(on_event)

    async def open_thread(self, workspace_id: str, channel_id: str, message: OutboundMessage) -> ThreadRef:
        await self.restore()
        thread = await super().open_thread(workspace_id, channel_id, message)
        await self._kept(thread.thread_id)
        return thread

    async def post(self, thread: ThreadRef, message: OutboundMessage) -> str:
        await self.restore()
        posted_id = await super().post(thread, message)
        await self._kept(posted_id)
        return posted_id

    async def update(self, thread: ThreadRef, message_id: str, message: OutboundMessage) -> None:
        await self.restore()
        await super().update(thread, message_id, message)
        await self._kept(message_id)

    async def _remove(self, message_id: str) -> None:
        await super()._remove(message_id)
        key = self._stored_as.pop(message_id, None)
        if key is not None and self.store is not None:
            await self.store.delete(key)

    async def _preview(self, thread: ThreadRef, message_id: str | None, message: OutboundMessage) -> str:
        """A stream's text so far: shown, not kept (its ``finish`` keeps the reply)."""
        await self.restore()
        if message_id is None:
            return await InMemoryPlatform.post(self, thread, message)
        await InMemoryPlatform.update(self, thread, message_id, message)
        return message_id

    # -- what people do --------------------------------------------------------------------------------

    def threads(self) -> list[str]:
        """The threads' ids, oldest first."""
        return list(dict.fromkeys(p.thread.thread_id for p in self.posts))

    def working(self, thread_id: str) -> str | None:
        """What the bot shows it is doing in the thread (None: nothing)."""
        shown = [status for tid, status in self.statuses if tid == thread_id]
        return shown[-1] if shown else None

    async def start(
        self, author: Author, text: str, files: tuple[Attachment, ...] = (), skipped: tuple[SkippedFile, ...] = ()
    ) -> ThreadRef:
        """A new thread, opened by ``author`` mentioning the bot with ``text`` (and images ``files``;
        ``skipped``: the files they attached that the team does not get)."""
        thread = self.thread(f"w{next(self._threads)}-{self._token}")
        await self._said("mention", thread, author, text, files, skipped)
        return thread

    async def write(
        self,
        thread_id: str,
        author: Author,
        text: str,
        files: tuple[Attachment, ...] = (),
        skipped: tuple[SkippedFile, ...] = (),
    ) -> None:
        """``author`` writes ``text`` in the thread (with files, as :meth:`start`)."""
        await self._said("message", self.thread(thread_id), author, text, files, skipped)

    async def click(self, thread_id: str, author: Author, button: Button, ref: str) -> None:
        """``author`` presses ``button`` of the message ``ref``."""
        await self.deliver(
            ThreadEvent(
                "button",
                self.thread(thread_id),
                author,
                self._key(),
                action_id=button.action_id,
                value=button.value,
                ref_message_id=ref,
            )
        )

    async def _said(
        self,
        kind: str,
        thread: ThreadRef,
        author: Author,
        text: str,
        files: tuple[Attachment, ...],
        skipped: tuple[SkippedFile, ...],
    ) -> None:
        await self.restore()
        said = OutboundMessage(Persona(PERSON, author.display_name), text, attachments=files)
        posted = Posted(f"h{next(self._ids)}-{self._token}", thread, said, time.monotonic())
        await self._add(posted)
        await self._keep(posted)
        event = ThreadEvent(
            kind,  # type: ignore[arg-type]
            thread,
            author,
            self._key(),
            text=text,
            message_id=posted.id,
            attachments=files,
            skipped=skipped,
        )
        await self.deliver(event)

    def _key(self) -> str:
        return f"web.{self._token}.{next(self._keys)}"


def _posted_json(posted: Posted) -> dict[str, Any]:
    message, persona = posted.message, posted.message.persona
    return {
        "id": posted.id,
        "thread": [
            posted.thread.platform,
            posted.thread.workspace_id,
            posted.thread.channel_id,
            posted.thread.thread_id,
        ],
        "persona": [persona.name, persona.display_name, persona.icon_emoji, persona.icon_url],
        "text": message.text,
        "key": message.key,
        "files": [[f.name, f.mime_type, base64.b64encode(f.data).decode()] for f in message.attachments],
        "buttons": [[b.label, b.action_id, b.value, b.style] for b in message.buttons],
        "ephemeral_for": message.ephemeral_for,
        "notes": list(message.notes),
    }


def _posted_from_json(data: dict[str, Any]) -> Posted:
    message = OutboundMessage(
        Persona(*data["persona"]),
        data["text"],
        key=data["key"],
        attachments=tuple(Attachment(name, mime, base64.b64decode(b64)) for name, mime, b64 in data["files"]),
        buttons=tuple(Button(*b) for b in data["buttons"]),
        ephemeral_for=data["ephemeral_for"],
        notes=tuple(data["notes"]),
    )
    return Posted(data["id"], ThreadRef(*data["thread"]), message, time.monotonic())
