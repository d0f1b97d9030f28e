"""A reply shown in the thread while the model writes it, for agents whose model streams.

The stream is only a preview: the reply is stored when the step ends, like every message,
and then the stream is turned into that stored message (``finish``), so the thread shows it
once. A stream is closed well before the platform's own limit (Slack ends streams after five
minutes): a reply still coming then goes on unshown, and its preview is taken away when the
whole reply is posted. A step that fails takes
its preview away. (A crash mid-stream leaves the preview; the step runs again after the restart
and posts the reply anew.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from adapters import ChatPlatform, MessageStream, OutboundMessage, Persona, ThreadRef

__all__ = ["StepStream", "max_age"]

_log = logging.getLogger(__name__)

APPEND_EVERY = 0.5  # seconds: how often the preview grows (platforms rate-limit edits)
CLOSE_AT = 0.8  # of the platform's stream time limit: close a stream with time to spare


def max_age(platform: ChatPlatform) -> float:
    """How long a preview may stay open on ``platform`` (seconds; no limit when it has none)."""
    limit = platform.capabilities.stream_seconds
    return limit * CLOSE_AT if limit is not None else float("inf")


class StepStream:
    """The preview of one step's reply; ``delta`` is the agents' stream handler."""

    def __init__(
        self,
        platform: ChatPlatform,
        thread: ThreadRef,
        persona: Callable[[str], Persona],
        reader: Callable[[], str | None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.platform = platform
        self.thread = thread
        self.persona = persona
        self.reader = reader
        self.clock = clock
        self.max_age = max_age(platform)
        self.agent: str | None = None
        self._unavailable = not platform.capabilities.streaming
        self.live: MessageStream | None = None
        self.stale: list[MessageStream] = []
        self._text = ""
        self._pending = ""
        self._started = 0.0
        self._appended = 0.0

    async def delta(self, agent: str, text: str) -> None:
        """More of ``agent``'s reply. Never raises: a preview must not break the step."""
        try:
            await self._delta(agent, text)
        except Exception as exc:
            _log.info("streaming %s's reply into %s failed (%s); it is posted when done", agent, self.thread.key, exc)
            self.live, self._unavailable = None, True

    async def _delta(self, agent: str, text: str) -> None:
        if self._unavailable or not text:
            return
        if self.agent != agent:  # a new reply (a retried call starts over, too)
            await self._retire()
            self.agent, self._text, self._pending = agent, "", ""
            self.live = await self.platform.start_stream(self.thread, self.persona(agent), reader=self.reader())
            if self.live is None:
                self._unavailable = True
                return
            self._started = self._appended = self.clock()
        self._text += text
        self._pending += text
        now = self.clock()
        if self.live is None:
            return
        if now - self._started >= self.max_age:
            await self.live.finish(OutboundMessage(self.persona(agent), self._text + " …"))
            self.stale.append(self.live)
            self.live = None
        elif now - self._appended >= APPEND_EVERY or self._appended == self._started:
            await self.live.append(self._pending)
            self._pending, self._appended = "", now

    async def _retire(self) -> None:
        if self.live is not None:
            self.stale.append(self.live)
            self.live = None

    async def take(self, agent: str | None) -> MessageStream | None:
        """The stream to turn into ``agent``'s stored reply (None: post it as usual); previews
        that will not be used are taken away."""
        live = self.live if agent is not None and agent == self.agent else None
        if live is None:
            await self._retire()
        self.live = None
        await self.drop()
        self.agent = None
        return live

    async def drop(self) -> None:
        """Take every preview away (the step failed, or its reply is posted another way)."""
        await self._retire()
        stale, self.stale = self.stale, []
        for stream in stale:
            try:
                await stream.abandon()
            except Exception as exc:
                _log.info("could not take a preview back from %s: %s", self.thread.key, exc)
        self.agent = None
