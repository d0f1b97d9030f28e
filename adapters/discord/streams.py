"""A reply shown while the model writes it: one message, edited at most once a second."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from ..thread import OutboundMessage, Persona, ThreadRef
from .render import KEY_ROOM, MESSAGE_LIMIT, message_pieces, utf16_len

if TYPE_CHECKING:
    from .platform import DiscordPlatform

__all__ = ["DiscordStream", "preview"]


def preview(text: str) -> str:
    """What a streamed message shows of ``text``: its start, when the whole is too long for one message."""
    room = MESSAGE_LIMIT - KEY_ROOM
    if utf16_len(text) <= room:
        return text
    cut = text
    while utf16_len(cut) > room - 1:
        cut = cut[: len(cut) - max(1, (utf16_len(cut) - room) // 2)]
    return cut + "…"


class DiscordStream:
    """The first text is posted; later text edits that message, no more than once per ``edit_every``
    seconds (an edit waits for its turn); ``finish`` makes it the stored reply."""

    def __init__(self, platform: DiscordPlatform, thread: ThreadRef, persona: Persona) -> None:
        self.platform = platform
        self.thread = thread
        self.persona = persona
        self.text = ""
        self.shown = ""
        self.message_id: str | None = None
        self.edited_at = float("-inf")
        self.edits = 0
        self._pending: asyncio.Task[None] | None = None

    async def append(self, text: str) -> None:
        self.text += text
        if self.message_id is None:
            self.shown = preview(self.text)
            self.message_id = await self.platform.post(self.thread, OutboundMessage(self.persona, self.shown))
            self.edited_at = self.platform.clock()
            return
        wait = self.edited_at + self.platform.config.edit_every - self.platform.clock()
        if wait <= 0:
            await self._cancel_pending()  # this edit shows what the waiting one would have
            await self._edit()
        elif self._pending is None:
            self._pending = asyncio.create_task(self._edit_after(wait))

    async def _edit_after(self, wait: float) -> None:
        await asyncio.sleep(wait)
        self._pending = None
        await self._edit()

    async def _edit(self) -> None:
        shown = preview(self.text)
        if self.message_id is None or shown == self.shown:
            return
        self.shown = shown
        self.edited_at = self.platform.clock()
        self.edits += 1
        await self.platform.update(self.thread, self.message_id, OutboundMessage(self.persona, shown))

    async def _cancel_pending(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pending
            self._pending = None

    async def finish(self, message: OutboundMessage) -> str:
        await self._cancel_pending()
        if self.message_id is None:
            return await self.platform.post(self.thread, message)
        if len(message_pieces(message, personas=True)) == 1 and not message.attachments:
            await self.platform.update(self.thread, self.message_id, message)
            return self.message_id
        await self.abandon()  # too long for one message, or with files: posted whole instead
        return await self.platform.post(self.thread, message)

    async def abandon(self) -> None:
        await self._cancel_pending()
        if self.message_id is not None:
            message_id, self.message_id = self.message_id, None
            await self.platform.delete(self.thread, message_id)
