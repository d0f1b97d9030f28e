"""The platform as the runtime posts to it: nothing goes out that the :class:`Redactor` would take out.

:class:`GuardedPlatform` wraps a :class:`ChatPlatform`. Posts (their files included), updates and
streamed previews pass the redactor on their way out; previews also lose every mention (the
reply they turn into follows the team's mentions policy). A streamed reply arrives in pieces and
a secret may be cut between two of them, so a preview holds back what may be the start of one
(a word that begins like a token, the beginning of a configured secret, an open ``<``) until
more comes or the stream ends.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aiohttp import web

from adapters import (
    Capabilities,
    ChannelAccess,
    ChatPlatform,
    EventHandler,
    MessageStream,
    OutboundMessage,
    Persona,
    ThreadRef,
    limit_mentions,
)

from .redaction import TOKEN_STARTS, Redactor

__all__ = ["GuardedPlatform", "guarded"]

_SPACE = re.compile(r"\s")


class GuardedPlatform:
    """``platform``, with everything it is given to post redacted first."""

    def __init__(self, platform: ChatPlatform, redactor: Redactor) -> None:
        self.platform = platform
        self.redactor = redactor
        self.name = platform.name
        self.capabilities: Capabilities = platform.capabilities

    @property
    def connected(self) -> bool:
        return self.platform.connected

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return self.platform.routes()

    async def run(self, on_event: EventHandler) -> None:
        await self.platform.run(on_event)

    async def open_thread(self, workspace_id: str, channel_id: str, message: OutboundMessage) -> ThreadRef:
        where = f"a new thread in {self.name}:{workspace_id}:{channel_id}"
        return await self.platform.open_thread(workspace_id, channel_id, self.redactor.outbound(message, where))

    async def can_post_in(self, workspace_id: str, channel_id: str) -> ChannelAccess:
        return await self.platform.can_post_in(workspace_id, channel_id)

    async def post(self, thread: ThreadRef, message: OutboundMessage) -> str:
        return await self.platform.post(thread, self.redactor.outbound(message, f"a post to {thread.key}"))

    async def update(self, thread: ThreadRef, message_id: str, message: OutboundMessage) -> None:
        await self.platform.update(thread, message_id, self.redactor.outbound(message, f"an update in {thread.key}"))

    async def find_posted(self, thread: ThreadRef, key: str) -> str | None:
        return await self.platform.find_posted(thread, key)

    async def set_status(self, thread: ThreadRef, status: str | None) -> None:
        await self.platform.set_status(thread, status)

    async def start_stream(
        self, thread: ThreadRef, persona: Persona, *, reader: str | None = None
    ) -> MessageStream | None:
        stream = await self.platform.start_stream(thread, persona, reader=reader)
        return None if stream is None else GuardedStream(stream, self.redactor, f"a preview in {thread.key}")

    async def close(self) -> None:
        await self.platform.close()


def guarded(platform: ChatPlatform, redactor: Redactor) -> ChatPlatform:
    """``platform`` behind ``redactor`` (once: a guarded platform is returned as it is)."""
    return platform if isinstance(platform, GuardedPlatform) else GuardedPlatform(platform, redactor)


class GuardedStream:
    """A streamed preview that shows only text the redactor has seen whole."""

    def __init__(self, stream: MessageStream, redactor: Redactor, where: str) -> None:
        self.stream = stream
        self.redactor = redactor
        self.where = where
        self._held = ""  # raw text not shown yet

    async def append(self, text: str) -> None:
        self._held += text
        cut = self._safe_end(self._held)
        if cut > 0:
            shown, self._held = self._held[:cut], self._held[cut:]
            await self.stream.append(limit_mentions(self.redactor.redact(shown, self.where), "none", ()))

    async def finish(self, message: OutboundMessage) -> str:
        self._held = ""
        return await self.stream.finish(self.redactor.outbound(message, self.where))

    async def abandon(self) -> None:
        self._held = ""
        await self.stream.abandon()

    def _safe_end(self, text: str) -> int:
        """How much of ``text`` may be shown: nothing from where a secret, a token or a mention may
        still be coming (its start is there, its end is not yet), and no secret cut in two."""
        end = len(text)
        word = max((m.end() for m in _SPACE.finditer(text)), default=0)
        for at in range(word, len(text)):
            rest = text[at:]
            if any(rest.startswith(s) or s.startswith(rest) for s in TOKEN_STARTS):
                end = at
                break
        opened = text.rfind("<")  # a mention (<@U123>) that is not closed yet
        if opened >= 0 and ">" not in text[opened:]:
            end = min(end, opened)
        end = min(end, self.redactor.unfinished(text))
        spans = self.redactor.spans(text)
        moved = True
        while moved:  # a secret found whole must not be cut, nor one that may still grow at the end
            moved = False
            for start, stop in spans:
                if start < end <= stop:
                    end, moved = start, True
        return end
