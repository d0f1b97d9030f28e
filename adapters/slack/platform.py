"""Slack as a ChatPlatform, on slack-bolt's AsyncApp: Socket Mode or HTTP, one workspace or many.

Events reach the bot through Bolt (acknowledged at once; buttons and commands ``ack()`` first
thing), and the bot posts with slack-sdk's AsyncWebClient, which retries 429s after their
Retry-After. Everything Slack-specific stays here; the bot sees ThreadEvents and answers
with OutboundMessages.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from ..thread import EventHandler, MessageStream, OutboundMessage, Persona, ThreadEvent, ThreadRef
from .events import HUMAN_SUBTYPES, action_event, command_event, message_event, speaker_of
from .render import ACTION_PREFIX, message_files, message_payload, update_payload

__all__ = ["BOT_SCOPES", "SlackConfig", "SlackPlatform"]

_log = logging.getLogger(__name__)

BOT_SCOPES = [
    "app_mentions:read",
    "channels:history",
    "groups:history",
    "im:history",
    "mpim:history",
    "chat:write",
    "chat:write.customize",
    "commands",
    "files:write",
    "reactions:write",
    "users:read",
]
WORKING_REACTION = "hourglass_flowing_sand"


@dataclass(frozen=True)
class SlackConfig:
    """How threadcrew meets Slack.

    Attributes:
        mode: ``socket`` (an app-level token; no public URL) or ``http`` (Slack posts to
            ``http_host:http_port`` + ``http_path``; requests are checked with ``signing_secret``).
        bot_token: one workspace's bot token (``xoxb-``); without it, HTTP mode installs into
            many workspaces through OAuth (``client_id``, ``client_secret``).
        api_url: Slack's Web API (a proxy, or a local fake in tests).
        allowed_channels: channel ids the bot works in; empty for every channel it is in.
        allow_bots: whether other bots' messages count as people's.
        command: the slash command.
    """

    mode: Literal["socket", "http"] = "socket"
    bot_token: str | None = None
    app_token: str | None = None
    signing_secret: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    api_url: str = "https://slack.com/api/"
    http_host: str = "0.0.0.0"
    http_port: int = 3000
    http_path: str = "/slack/events"
    install_path: str = "/slack/install"
    redirect_path: str = "/slack/oauth_redirect"
    allowed_channels: frozenset[str] = field(default_factory=frozenset)
    allow_bots: bool = False
    command: str = "/threadcrew"
    retries: int = 5


class SlackPlatform:
    """Slack threads, in the neutral thread model."""

    name = "slack"

    def __init__(
        self,
        config: SlackConfig,
        *,
        installation_store: AsyncInstallationStore | None = None,
        state_store: AsyncOAuthStateStore | None = None,
    ) -> None:
        self.config = config
        self._installations = installation_store
        self._clients: dict[str, AsyncWebClient] = {}
        self._names: dict[tuple[str, str], str] = {}
        self._no_personas: set[str] = set()  # workspaces without chat:write.customize
        self._no_assistant: set[str] = set()  # workspaces whose threads are no assistant threads
        self._no_streaming: set[str] = set()  # workspaces where chat.startStream was refused
        self._working: dict[str, str] = {}  # thread key -> how its "working" status was shown
        self._on_event: EventHandler | None = None
        self._closed = asyncio.Event()
        self.app = self._build_app(state_store)
        self.port: int | None = None  # the HTTP server's port once it listens
        self.ready = asyncio.Event()  # set once Slack can reach the bot (socket connected, server up)
        self._busy = 0  # listeners running: events Slack was told we have
        self._quiet = asyncio.Event()
        self._quiet.set()

    # -- the Bolt app --------------------------------------------------------------------------------

    def _new_client(self, token: str | None) -> AsyncWebClient:
        handlers = [
            AsyncRateLimitErrorRetryHandler(max_retry_count=self.config.retries),
            AsyncConnectionErrorRetryHandler(),
        ]
        return AsyncWebClient(token=token, base_url=self.config.api_url, retry_handlers=handlers)

    def _build_app(self, state_store: AsyncOAuthStateStore | None) -> AsyncApp:
        config = self.config
        base = self._new_client(config.bot_token)
        common: dict[str, Any] = {
            "client": base,
            "signing_secret": config.signing_secret or "",
            "request_verification_enabled": config.mode == "http",
            "process_before_response": False,
        }
        if config.bot_token:
            app = AsyncApp(token=config.bot_token, **common)
        else:
            oauth = AsyncOAuthSettings(
                client_id=config.client_id,
                client_secret=config.client_secret,
                scopes=BOT_SCOPES,
                installation_store=self._installations,
                state_store=state_store,
                install_path=config.install_path,
                redirect_uri_path=config.redirect_path,
            )
            app = AsyncApp(oauth_settings=oauth, installation_store=self._installations, **common)
        app.event("app_mention")(self._counted(self._on_message))
        app.event("message")(self._counted(self._on_message))
        app.action(re.compile("^" + re.escape(ACTION_PREFIX)))(self._counted(self._on_action))
        app.command(config.command)(self._counted(self._on_command))
        return app

    def _counted(self, listener: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        """``listener``, counted while it runs: Slack has its event, so a closing platform waits for it."""

        @functools.wraps(listener)
        async def counted(*args: Any, **kwargs: Any) -> None:
            self._busy += 1
            self._quiet.clear()
            try:
                await listener(*args, **kwargs)
            finally:
                self._busy -= 1
                if not self._busy:
                    self._quiet.set()

        return counted

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any], context: Any) -> None:
        speaker = speaker_of(event)
        if (speaker.is_bot and not self.config.allow_bots) or event.get("subtype") not in HUMAN_SUBTYPES:
            return  # decided before any await: what is ignored is ignored in the order it came
        team = str(body.get("team_id") or event.get("team") or "")
        channel = event.get("channel", "")
        if self.config.allowed_channels and channel not in self.config.allowed_channels:
            if event.get("type") == "app_mention" and event.get("user"):
                await self._tell(context.client, channel, event["user"], "threadcrew is not enabled in this channel.")
            return
        user = event.get("user") or ""
        found = message_event(
            event,
            team_id=team,
            event_id=str(body.get("event_id") or f"{channel}:{event.get('ts')}"),
            bot_user_id=context.bot_user_id or "",
            display_name=await self._name(context.client, team, user),
        )
        if found is not None:
            await self._deliver(found)

    async def _on_action(self, ack: Any, body: dict[str, Any], context: Any) -> None:
        await ack()
        user = body.get("user") or {}
        found = action_event(
            body, display_name=await self._name(context.client, context.team_id or "", user.get("id", ""))
        )
        if found is not None:
            await self._deliver(found)

    async def _on_command(self, ack: Any, body: dict[str, Any], context: Any) -> None:
        await ack()
        channel = body.get("channel_id", "")
        if self.config.allowed_channels and channel not in self.config.allowed_channels:
            await self._tell(context.client, channel, body["user_id"], "threadcrew is not enabled in this channel.")
            return
        await self._deliver(
            command_event(body, display_name=await self._name(context.client, body["team_id"], body["user_id"]))
        )

    async def _deliver(self, event: ThreadEvent) -> None:
        if self._on_event is None:
            _log.warning("a Slack event came before the bot was ready; Slack will send it again")
            return
        await self._on_event(event)

    async def _name(self, client: AsyncWebClient, team: str, user: str) -> str:
        """The person's display name (looked up once), or their id when Slack will not say."""
        if not user:
            return "someone"
        key = (team, user)
        if key not in self._names:
            try:
                info = (await client.users_info(user=user))["user"]
                profile = info.get("profile") or {}
                self._names[key] = profile.get("display_name") or info.get("real_name") or info.get("name") or user
            except SlackApiError as exc:
                _log.info("users.info for %s failed (%s); showing the id", user, exc.response.get("error"))
                return user
        return self._names[key]

    async def _tell(self, client: AsyncWebClient, channel: str, user: str, text: str) -> None:
        try:
            await client.chat_postEphemeral(channel=channel, user=user, text=text)
        except SlackApiError as exc:
            _log.info("could not tell %s in %s: %s", user, channel, exc.response.get("error"))

    # -- the ChatPlatform protocol ------------------------------------------------------------------

    async def run(self, on_event: EventHandler) -> None:
        self._on_event = on_event
        if self.config.mode == "socket":
            handler = AsyncSocketModeHandler(self.app, self.config.app_token)
            await handler.connect_async()  # type: ignore[no-untyped-call]
            self.ready.set()
            try:
                await self._closed.wait()
            finally:
                await handler.close_async()  # type: ignore[no-untyped-call]
                await self._wait_quiet()
            return
        runner = web.AppRunner(self.app.web_app(self.config.http_path, self.config.http_port), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.config.http_host, self.config.http_port)
        await site.start()
        server = site._server
        if server is not None and server.sockets:  # type: ignore[attr-defined]
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.ready.set()
        try:
            await self._closed.wait()
        finally:
            await runner.shutdown()  # no new requests
            await self._wait_quiet()
            await runner.cleanup()

    async def _wait_quiet(self, within: float = 30) -> None:
        """Until the events Slack already has an ack for are handed to the bot."""
        try:
            await asyncio.wait_for(self._quiet.wait(), within)
        except TimeoutError:
            _log.warning("closing with %d Slack event(s) still being handed over", self._busy)

    async def post(self, thread: ThreadRef, message: OutboundMessage) -> str:
        client = await self._client(thread.workspace_id)
        thread_ts = thread.thread_id or None
        if message.ephemeral_for:
            payload = update_payload(message)
            sent = await client.chat_postEphemeral(
                channel=thread.channel_id, user=message.ephemeral_for, thread_ts=thread_ts, **payload
            )
            return str(sent["message_ts"])
        personas = thread.workspace_id not in self._no_personas
        try:
            sent = await client.chat_postMessage(
                channel=thread.channel_id, thread_ts=thread_ts, **message_payload(message, personas=personas)
            )
        except SlackApiError as exc:
            if not (personas and exc.response.get("error") == "missing_scope"):
                raise
            _log.warning(
                "workspace %s did not grant chat:write.customize: agents post under the bot's name, "
                "their own in bold (add the scope and reinstall the app to give them their personas)",
                thread.workspace_id,
            )
            self._no_personas.add(thread.workspace_id)
            sent = await client.chat_postMessage(
                channel=thread.channel_id, thread_ts=thread_ts, **message_payload(message, personas=False)
            )
        files = message_files(message)
        if files:
            uploads = [{"content": f.data, "filename": f.name, "title": f.name} for f in files]
            await client.files_upload_v2(channel=thread.channel_id, thread_ts=thread_ts, file_uploads=uploads)
        return str(sent["ts"])

    async def start_stream(
        self, thread: ThreadRef, persona: Persona, *, reader: str | None = None
    ) -> MessageStream | None:
        """Slack's chat streaming, in the thread, for ``reader`` (Slack requires one in channels)."""
        if not thread.thread_id or thread.workspace_id in self._no_streaming:
            return None
        return _SlackStream(self, await self._client(thread.workspace_id), thread, persona, reader)

    async def update(self, thread: ThreadRef, message_id: str, message: OutboundMessage) -> None:
        client = await self._client(thread.workspace_id)
        await client.chat_update(channel=thread.channel_id, ts=message_id, **update_payload(message))

    async def find_posted(self, thread: ThreadRef, key: str) -> str | None:
        if not key or not thread.thread_id:
            return None
        client = await self._client(thread.workspace_id)
        cursor: str | None = None
        while True:
            page = await client.conversations_replies(
                channel=thread.channel_id, ts=thread.thread_id, include_all_metadata=True, limit=200, cursor=cursor
            )
            messages: list[dict[str, Any]] = page.get("messages") or []
            for message in messages:
                payload: dict[str, Any] = (message.get("metadata") or {}).get("event_payload") or {}
                if payload.get("key") == key:
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                return None

    async def set_status(self, thread: ThreadRef, status: str | None) -> None:
        """Show that the agents are working (Slack's assistant status, else a reaction), or stop."""
        if not thread.thread_id:
            return
        shown = self._working.get(thread.key)
        if (status is None) == (shown is None):
            return
        client = await self._client(thread.workspace_id)
        try:
            if status is not None:
                self._working[thread.key] = await self._show_working(client, thread, status)
            else:
                del self._working[thread.key]
                if shown == "assistant":
                    await client.assistant_threads_setStatus(
                        channel_id=thread.channel_id, thread_ts=thread.thread_id, status=""
                    )
                else:
                    await client.reactions_remove(
                        channel=thread.channel_id, timestamp=thread.thread_id, name=WORKING_REACTION
                    )
        except SlackApiError as exc:
            _log.info("the working status of %s: %s", thread.key, exc.response.get("error"))

    async def _show_working(self, client: AsyncWebClient, thread: ThreadRef, status: str) -> str:
        if thread.workspace_id not in self._no_assistant:
            try:
                await client.assistant_threads_setStatus(
                    channel_id=thread.channel_id, thread_ts=thread.thread_id, status=status
                )
                return "assistant"
            except SlackApiError:
                self._no_assistant.add(thread.workspace_id)  # not an AI app: a reaction will do
        await client.reactions_add(channel=thread.channel_id, timestamp=thread.thread_id, name=WORKING_REACTION)
        return "reaction"

    async def close(self) -> None:
        self._closed.set()

    # -- clients per workspace ---------------------------------------------------------------------

    async def _client(self, workspace_id: str) -> AsyncWebClient:
        """The client with the bot token of ``workspace_id`` (one token, or its installation's)."""
        if self.config.bot_token:
            return self.app.client
        client = self._clients.get(workspace_id)
        if client is None:
            assert self._installations is not None
            bot = await self._installations.async_find_bot(enterprise_id=None, team_id=workspace_id)
            if bot is None or not bot.bot_token:
                raise LookupError(f"threadcrew is not installed in Slack workspace {workspace_id}")
            client = self._clients[workspace_id] = self._new_client(bot.bot_token)
        return client


class _SlackStream:
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
            await self.client.chat_appendStream(channel=self.thread.channel_id, ts=self.ts, markdown_text=text)
            return
        workspace = self.thread.workspace_id
        try:
            started = await self._start(text, personas=workspace not in self.platform._no_personas)
        except SlackApiError as exc:
            if exc.response.get("error") != "missing_scope" or workspace in self.platform._no_personas:
                self.platform._no_streaming.add(workspace)  # post replies whole from now on
                raise RuntimeError(f"chat.startStream refused: {exc.response.get('error')}") from exc
            self.platform._no_personas.add(workspace)
            started = await self._start(text, personas=False)
        self.ts = str(started["ts"])

    async def _start(self, text: str, *, personas: bool) -> Any:
        persona = self.persona if personas else Persona(self.persona.name)
        if not personas:
            text = f"**{self.persona.label}:** {text}"
        return await self.client.chat_startStream(
            channel=self.thread.channel_id,
            thread_ts=self.thread.thread_id,
            markdown_text=text,
            recipient_team_id=self.thread.workspace_id if self.reader else None,
            recipient_user_id=self.reader,
            username=persona.label if personas else None,
            icon_url=persona.icon_url,
            icon_emoji=None if persona.icon_url else persona.icon_emoji,
        )

    async def finish(self, message: OutboundMessage) -> str:
        if self.ts is None:
            return await self.platform.post(self.thread, message)
        payload = message_payload(message, personas=self.thread.workspace_id not in self.platform._no_personas)
        await self.client.chat_stopStream(
            channel=self.thread.channel_id, ts=self.ts, blocks=payload["blocks"], metadata=payload.get("metadata")
        )
        self.stopped = True
        files = message_files(message)
        if files:
            uploads = [{"content": f.data, "filename": f.name, "title": f.name} for f in files]
            await self.client.files_upload_v2(
                channel=self.thread.channel_id, thread_ts=self.thread.thread_id, file_uploads=uploads
            )
        return self.ts

    async def abandon(self) -> None:
        if self.ts is None:
            return
        if not self.stopped:
            await self.client.chat_stopStream(channel=self.thread.channel_id, ts=self.ts)
        await self.client.chat_delete(channel=self.thread.channel_id, ts=self.ts)
