"""Slack's chat streaming as a MessageStream: a reply shown while the model writes it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_sdk.web.async_client import AsyncWebClient

from ..errors import PlatformError
from ..thread import OutboundMessage, Persona, ThreadRef
from ._errors import platform_errors
from .render import message_payload, named, persona_fields

if TYPE_CHECKING:
    from .platform import SlackPlatform

__all__ = ["SlackStream"]


class SlackStream:
    """One streamed message: ``chat.startStream`` with the first text, ``appendStream``, then
    ``stopStream`` with the final blocks and threadcrew's key (so ``find_posted`` finds it)."""

    def __init__(
        self, platform: SlackPlatform, client: AsyncWebClient, thread: ThreadRef, persona: Persona, reader: str | None
    ) -> None:
        self.platform = platform
        self.client = client
        self.thread = thread
        self.persona = persona
        self.reader = reader
        self.ts: str | None = None
        self.stopped = False

    async def append(self, text: str) -> None:
        if self.ts is not None:
            with platform_errors("a stream"):
                await self.client.chat_appendStream(channel=self.thread.channel_id, ts=self.ts, markdown_text=text)
            return
        workspace = self.thread.workspace_id
        try:
            with platform_errors("starting a stream"):
                started = await self.platform.as_persona(workspace, lambda personas: self._start(text, personas))
        except PlatformError:
            self.platform.refuses_streams(workspace)  # post replies whole from now on
            raise
        self.ts = str(started["ts"])

    async def _start(self, text: str, personas: bool) -> Any:
        fields = persona_fields(self.persona) if personas else {}
        return await self.client.chat_startStream(
            channel=self.thread.channel_id,
            thread_ts=self.thread.thread_id,
            markdown_text=text if personas else named(self.persona, text),
            recipient_team_id=self.thread.workspace_id if self.reader else None,
            recipient_user_id=self.reader,
            username=fields.get("username"),
            icon_url=fields.get("icon_url"),
            icon_emoji=fields.get("icon_emoji"),
        )

    async def finish(self, message: OutboundMessage) -> str:
        if self.ts is None:
            return await self.platform.post(self.thread, message)
        payload = message_payload(message, personas=self.platform.personas_allowed(self.thread.workspace_id))
        with platform_errors("finishing a stream"):
            await self.client.chat_stopStream(
                channel=self.thread.channel_id, ts=self.ts, blocks=payload["blocks"], metadata=payload.get("metadata")
            )
            self.stopped = True
            await self.platform.upload(self.client, self.thread, message)
        return self.ts

    async def abandon(self) -> None:
        if self.ts is None:
            return
        with platform_errors("taking a stream back"):
            if not self.stopped:
                await self.client.chat_stopStream(channel=self.thread.channel_id, ts=self.ts)
            await self.client.chat_delete(channel=self.thread.channel_id, ts=self.ts)
