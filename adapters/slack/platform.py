"""Slack as a ChatPlatform, on slack-bolt's AsyncApp: Socket Mode or HTTP, one workspace or many.

Events reach the bot through Bolt, and Slack gets its answer once the bot has kept the event
(an error when it cannot, so that Slack sends it again); the bot posts with slack-sdk's
AsyncWebClient, which retries 429s after their Retry-After. Everything Slack-specific stays
here; the bot sees ThreadEvents and answers with OutboundMessages.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from ..arrivals import Arrivals
from ..errors import NotInstalledError, PlatformError
from ..thread import (
    Capabilities,
    ChannelAccess,
    EventHandler,
    MessageStream,
    OutboundMessage,
    Persona,
    ThreadEvent,
    ThreadRef,
)
from ._errors import platform_errors, slack_error_code
from .channels import channel_access, refused_access
from .config import BOT_SCOPES, SlackConfig
from .events import HUMAN_SUBTYPES, action_event, command_event, message_event, speaker_of
from .files import SlackFiles
from .intake import EventIntake, KeptFirstSocketMode, RequestInbox
from .names import SlackNames
from .payloads import BlockActions, EventCallback, MessageEvent, SlashCommand
from .render import ACTION_PREFIX, message_files, message_payload, update_payload
from .requests import Refusal, check_request, refused
from .streams import SlackStream

__all__ = ["SlackPlatform"]

_log = logging.getLogger(__name__)
T = TypeVar("T")

WORKING_REACTION = "hourglass_flowing_sand"
STREAM_SECONDS = 300.0  # Slack ends a chat stream after five minutes
MARKDOWN_BLOCK_CHARS = 12_000
NAME_WAIT = 0.5  # seconds an event waits for its author's name before it is kept with the id
KEPT_NAME_WAIT = 5.0  # the same for an event kept and answered first: Slack is not waiting for it


class SlackPlatform:
    """Slack threads, in the neutral thread model.

    Args:
        config: how to meet Slack.
        installation_store, state_store: where OAuth installs go (without a bot token).
        requests: where Slack's events are kept before Slack gets its answer (an HTTP answer, or an
            envelope's ack in Socket Mode; see ``intake``); without it, Slack waits while Bolt
            hands each event over.
    """

    name = "slack"

    def __init__(
        self,
        config: SlackConfig,
        *,
        installation_store: AsyncInstallationStore | None = None,
        state_store: AsyncOAuthStateStore | None = None,
        requests: RequestInbox | None = None,
    ) -> None:
        self.config = config
        self.capabilities = Capabilities(
            personas=True,
            buttons=True,
            edits=True,
            ephemeral=True,
            streaming=True,
            stream_seconds=STREAM_SECONDS,
            uploads=True,
            typing=True,
            max_message_chars=MARKDOWN_BLOCK_CHARS,
            command=config.command,
        )
        self._installations = installation_store
        self._files = SlackFiles(config.api_url, max_bytes=config.image_limit, max_count=config.max_images)
        self._clients: dict[str, AsyncWebClient] = {}
        self._identity: asyncio.Future[AsyncSlackResponse] | None = None  # auth.test, asked once
        self._session: aiohttp.ClientSession | None = None  # see _share_connections
        self._identities: dict[str, dict[str, Any]] = {}  # workspace -> what auth.test said there
        self._no_personas: set[str] = set()  # workspaces without chat:write.customize
        self._no_assistant: set[str] = set()  # workspaces whose threads are no assistant threads
        self._no_streaming: set[str] = set()  # workspaces where chat.startStream was refused
        self._working: dict[str, str] = {}  # thread key -> how its "working" status was shown
        self._on_event: EventHandler | None = None
        self._closed = asyncio.Event()
        self.app = self._build_app(state_store)
        self._arrivals = Arrivals()  # Slack's requests being answered: kept events are handed over after them
        self.intake = None
        if requests is not None:
            self.intake = EventIntake(requests, self.app.async_dispatch, turn=self._arrivals.settled)
        self.names = SlackNames(NAME_WAIT if self.intake is None else KEPT_NAME_WAIT)
        self.ready = asyncio.Event()  # set once Slack can reach the bot (socket connected, routes served)
        self._busy = 0  # listeners running: events Slack was told we have
        self._quiet = asyncio.Event()
        self._quiet.set()

    # -- the Bolt app --------------------------------------------------------------------------------

    def _new_client(self, token: str | None) -> AsyncWebClient:
        handlers = [
            AsyncRateLimitErrorRetryHandler(max_retry_count=self.config.retries),
            AsyncConnectionErrorRetryHandler(),
        ]
        return AsyncWebClient(token=token, base_url=self.config.api_url, retry_handlers=handlers, session=self._session)

    def _build_app(self, state_store: AsyncOAuthStateStore | None) -> AsyncApp:
        config = self.config
        # Without its token until the app is built: Bolt warns that a client's token "will be
        # ignored" when authorize is given (it is not: the bot posts with this client).
        base = self._new_client(None)
        common: dict[str, Any] = {
            "client": base,
            "signing_secret": config.signing_secret or "",
            # HTTP mode checks every request before Bolt sees it (requests.py); Socket Mode needs no signature.
            "request_verification_enabled": False,
            # Slack gets its answer once the listener has handed the event over (the bot keeps it in
            # its inbox first): a crash before that, or a failure to keep it, makes Slack send it again.
            "process_before_response": True,
        }
        if config.bot_token:

            async def authorize(user_id: str | None) -> AuthorizeResult:  # Bolt passes arguments by name
                return await self._authorize_bot(user_id)

            app = AsyncApp(authorize=authorize, **common)
            base.token = config.bot_token
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

    async def _authorize_bot(self, user_id: str | None) -> AuthorizeResult:
        """With one bot token: who the bot is, asked of Slack once for every request (Bolt's own
        single-workspace check asks again for each request until its first answer is back, so a
        burst after a start made a thousand auth.test calls before any mention was kept)."""
        if self._identity is None:
            self._identity = asyncio.ensure_future(self.app.client.auth_test())
        try:
            found = await asyncio.shield(self._identity)
        except Exception:
            self._identity = None  # asked again next time
            raise
        self._remember_identity(str(found.get("team_id")), found)
        return AuthorizeResult(
            enterprise_id=found.get("enterprise_id"),
            team_id=found.get("team_id"),
            bot_id=found.get("bot_id"),
            bot_user_id=found.get("user_id"),
            bot_token=self.config.bot_token,
            user_id=user_id,
            bot_scopes=found.headers.get("x-oauth-scopes"),
        )

    async def _know_identity(self) -> None:
        """With one bot token: who the bot is, asked before the first event is taken (Bolt's
        authorization needs it; asked during a burst, every event waits for the answer, which
        comes back behind the burst's own requests)."""
        if not self.config.bot_token:
            return
        try:
            await self._authorize_bot(None)
        except SlackApiError as exc:
            _log.warning("auth.test failed (%s); Slack's first event asks again", slack_error_code(exc))
        except (aiohttp.ClientError, TimeoutError) as exc:
            _log.warning("auth.test failed (%r); Slack's first event asks again", exc)

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

    async def _on_message(self, body: EventCallback, event: MessageEvent, context: Any) -> None:
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
        images, skipped = await self._files.images(event, context.client.token)
        found = message_event(
            event,
            team_id=team,
            event_id=str(body.get("event_id") or f"{channel}:{event.get('ts')}"),
            bot_user_id=context.bot_user_id or "",
            display_name=await self.names.of(context.client, team, user),
            attachments=images,
            skipped=skipped,
        )
        if found is not None:
            await self._deliver(found)

    async def _on_action(self, ack: Any, body: BlockActions, context: Any) -> None:
        await ack()
        user = body.get("user") or {}
        found = action_event(
            body, display_name=await self.names.of(context.client, context.team_id or "", user.get("id", ""))
        )
        if found is not None:
            await self._deliver(found)

    async def _on_command(self, ack: Any, body: SlashCommand, context: Any) -> None:
        await ack()
        channel = body.get("channel_id", "")
        if self.config.allowed_channels and channel not in self.config.allowed_channels:
            await self._tell(context.client, channel, body["user_id"], "threadcrew is not enabled in this channel.")
            return
        await self._deliver(
            command_event(body, display_name=await self.names.of(context.client, body["team_id"], body["user_id"]))
        )

    async def _deliver(self, event: ThreadEvent) -> None:
        """Hand ``event`` to the bot; Slack is answered after this, with an error if it raises (and retries)."""
        if self._on_event is None:
            raise PlatformError("a Slack event came before the bot was ready; Slack will send it again")
        await self._on_event(event)

    async def _tell(self, client: AsyncWebClient, channel: str, user: str, text: str) -> None:
        try:
            await client.chat_postEphemeral(channel=channel, user=user, text=text)
        except SlackApiError as exc:
            _log.info("could not tell %s in %s: %s", user, channel, slack_error_code(exc))

    # -- the ChatPlatform protocol ------------------------------------------------------------------

    async def run(self, on_event: EventHandler) -> None:
        """Take Slack's events until :meth:`close`: over Socket Mode, or (HTTP mode) through
        :meth:`routes` on the bot's web server, which must be serving them by now."""
        self._on_event = on_event
        self._share_connections(aiohttp.ClientSession())
        handler = self._socket_mode() if self.config.mode == "socket" else None
        retrying: asyncio.Task[None] | None = None
        try:
            await self._know_identity()
            if handler is not None:
                await handler.connect_async()  # type: ignore[no-untyped-call]
            if self.intake is not None:  # what an earlier process kept and did not hand over
                await self.intake.retry_stale(everything=True)
                retrying = asyncio.create_task(self.intake.retrying())
            self.ready.set()
            await self._closed.wait()
        finally:
            self.ready.clear()
            if handler is not None:
                await handler.close_async()  # type: ignore[no-untyped-call]
            if retrying is not None:
                retrying.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await retrying
            if self.intake is not None:
                await self.intake.settle(30)
            await self._wait_quiet()
            session = self._session
            self._share_connections(None)
            if session is not None:
                await session.close()

    def _share_connections(self, session: aiohttp.ClientSession | None) -> None:
        """While the platform runs, its clients keep their connections to Slack open in one
        session (slack-sdk otherwise opens a session, and a connection, for every call)."""
        self._session = session
        for client in [self.app.client, *self._clients.values()]:
            client.session = session

    @property
    def connected(self) -> bool:
        return self.ready.is_set()

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        """HTTP mode: Slack's events, actions and commands (and the OAuth install pages when
        workspaces install the app) on the bot's web server."""
        if self.config.mode != "http":
            return ()
        routes = [web.post(self.config.http_path, self._arrivals.counting(self._http_event))]
        oauth = self.app.oauth_flow
        if oauth is not None:
            routes += [
                web.get(oauth.install_path, self._http_page(oauth.handle_installation)),
                web.get(oauth.redirect_uri_path, self._http_page(oauth.handle_callback)),
            ]
        return routes

    async def _http_event(self, request: web.Request) -> web.StreamResponse:
        if not self.ready.is_set():  # closing (or not started): Slack retries later
            return web.Response(status=503, text="threadcrew is restarting")
        # Unsigned and malformed requests are refused before Bolt parses them: one log line, no traceback.
        body = await request.read()
        checked = check_request(body, request.headers, signing_secret=self.config.signing_secret or "", now=time.time())
        if isinstance(checked, Refusal):
            return refused(checked, request)
        callback = checked.payload if request.content_type == "application/json" else None
        if self.intake is not None and callback is not None and callback.get("type") == "event_callback":
            return await self._keep_event(checked.text, request, callback)
        return await to_aiohttp_response(await self.app.async_dispatch(await to_bolt_request(request)))

    async def _keep_event(self, body: str, request: web.Request, callback: dict[str, Any]) -> web.Response:
        """An event callback: kept, then answered (an error when it cannot be kept: Slack retries)."""
        assert self.intake is not None
        headers = {name.lower(): value for name, value in request.headers.items()}
        try:
            await self.intake.take(body, headers, callback)
        except Exception as exc:
            _log.warning("could not keep a Slack event (%r); Slack is told to send it again", exc)
            return web.json_response({"error": "threadcrew could not keep the event; send it again"}, status=500)
        return web.Response(text="")

    def _socket_mode(self) -> AsyncSocketModeHandler:
        """Bolt's Socket Mode handler; with an intake, one that keeps event callbacks before their ack."""
        assert self.config.app_token is not None
        if self.intake is None:
            return AsyncSocketModeHandler(self.app, self.config.app_token)
        return KeptFirstSocketMode(self.app, self.config.app_token, self.intake, self._arrivals)

    @staticmethod
    def _http_page(handle: Callable[[Any], Awaitable[Any]]) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def page(request: web.Request) -> web.StreamResponse:
            return await to_aiohttp_response(await handle(await to_bolt_request(request)))

        return page

    async def open_thread(self, workspace_id: str, channel_id: str, message: OutboundMessage) -> ThreadRef:
        """Post ``message`` in the channel; its ``ts`` is the new thread's. ``workspace_id`` may be
        empty with one bot token: the token's own workspace.

        Raises:
            PlatformError: Slack refused (``not_in_channel``: invite the bot first).
        """
        if not workspace_id:
            if not self.config.bot_token:
                raise NotInstalledError("name the Slack workspace (team id) to start a run in: the app is in several")
            with platform_errors("auth.test"):
                workspace_id = str((await self.app.client.auth_test())["team_id"])
        ts = await self.post(ThreadRef(self.name, workspace_id, channel_id, ""), message)
        return ThreadRef(self.name, workspace_id, channel_id, ts)

    async def workspace_url(self, workspace_id: str) -> str | None:
        """The workspace's address (``https://acme.slack.com/``), asked of Slack once (``auth.test``);
        None when Slack does not say.

        Raises:
            PlatformError: Slack refused; NotInstalledError: the app is not in that workspace.
        """
        url = (await self._workspace_identity(await self._client(workspace_id), workspace_id)).get("url")
        return str(url) if url else None

    async def can_post_in(self, workspace_id: str, channel_id: str) -> ChannelAccess:
        """Whether the bot is a member of the channel (``conversations.info``); see ``channels``."""
        try:
            if not workspace_id and not self.config.bot_token:
                return ChannelAccess(None, "name the Slack workspace (team id): the app is in several")
            client = await self._client(workspace_id)
            name = await self._bot_name(client, workspace_id)
            with platform_errors("conversations.info"):
                try:
                    info = await client.conversations_info(channel=channel_id)
                except SlackApiError as exc:
                    code = slack_error_code(exc)
                    if code in ("channel_not_found", "missing_scope"):
                        return refused_access(code, channel_id, name)
                    raise
        except NotInstalledError as exc:
            return ChannelAccess(False, f"{exc}: install it there first")
        except PlatformError as exc:
            return refused_access(exc.code or "no answer", channel_id, "threadcrew")
        return channel_access(info["channel"], channel_id, name)

    async def _bot_name(self, client: AsyncWebClient, workspace_id: str) -> str:
        """The bot user's name in the workspace (what people type after /invite @), looked up once."""
        return str((await self._workspace_identity(client, workspace_id)).get("user") or "threadcrew")

    async def _workspace_identity(self, client: AsyncWebClient, workspace_id: str) -> dict[str, Any]:
        """What ``auth.test`` says of the bot in the workspace (its name, the workspace's address), asked once."""
        if workspace_id not in self._identities:
            with platform_errors("auth.test"):
                self._remember_identity(workspace_id, await client.auth_test())
        return self._identities[workspace_id]

    def _remember_identity(self, workspace_id: str, answer: AsyncSlackResponse) -> None:
        """Keep what an ``auth.test`` answer says of the bot in the workspace (one answer serves
        Bolt's authorization and the name and address lookups alike)."""
        self._identities[workspace_id] = {"user": answer.get("user"), "url": answer.get("url")}

    async def _wait_quiet(self, within: float = 30) -> None:
        """Until the events Slack already has an ack for are handed to the bot."""
        try:
            await asyncio.wait_for(self._quiet.wait(), within)
        except TimeoutError:
            _log.warning("closing with %d Slack event(s) still being handed over", self._busy)

    async def post(self, thread: ThreadRef, message: OutboundMessage) -> str:
        """Post into the thread (privately when ``ephemeral_for``), then its files.

        Raises:
            PlatformError: Slack refused or could not be reached (``code`` says why).
            NotInstalledError: no bot token for the thread's workspace.
        """
        client = await self._client(thread.workspace_id)
        thread_ts = thread.thread_id or None
        with platform_errors("a post"):
            if message.ephemeral_for:
                sent = await client.chat_postEphemeral(
                    channel=thread.channel_id,
                    user=message.ephemeral_for,
                    thread_ts=thread_ts,
                    **update_payload(message),
                )
                return str(sent["message_ts"])
            sent = await self.as_persona(
                thread.workspace_id,
                lambda personas: client.chat_postMessage(
                    channel=thread.channel_id, thread_ts=thread_ts, **message_payload(message, personas=personas)
                ),
            )
            await self.upload(client, thread, message)
        return str(sent["ts"])

    async def as_persona(self, workspace_id: str, send: Callable[[bool], Awaitable[T]]) -> T:
        """``send(personas)``: with the persona's name and icon where the workspace allows them;
        a ``missing_scope`` refusal is remembered, and ``send`` runs again without."""
        personas = workspace_id not in self._no_personas
        try:
            return await send(personas)
        except SlackApiError as exc:
            if not (personas and slack_error_code(exc) == "missing_scope"):
                raise
        _log.warning(
            "workspace %s did not grant chat:write.customize: agents post under the bot's name, "
            "their own in bold (add the scope and reinstall the app to give them their personas)",
            workspace_id,
        )
        self._no_personas.add(workspace_id)
        return await send(False)

    def personas_allowed(self, workspace_id: str) -> bool:
        return workspace_id not in self._no_personas

    def refuses_streams(self, workspace_id: str) -> None:
        """Remember that ``workspace_id`` refused chat.startStream: replies are posted whole there."""
        self._no_streaming.add(workspace_id)

    async def upload(self, client: AsyncWebClient, thread: ThreadRef, message: OutboundMessage) -> None:
        """Upload ``message``'s files into the thread (its attachments; its text when too long)."""
        files = message_files(message, personas=self.personas_allowed(thread.workspace_id))
        if files:
            uploads = [{"content": f.data, "filename": f.name, "title": f.name} for f in files]
            await client.files_upload_v2(
                channel=thread.channel_id, thread_ts=thread.thread_id or None, file_uploads=uploads
            )

    async def start_stream(
        self, thread: ThreadRef, persona: Persona, *, reader: str | None = None
    ) -> MessageStream | None:
        """Slack's chat streaming, in the thread, for ``reader`` (Slack requires one in channels)."""
        if not thread.thread_id or thread.workspace_id in self._no_streaming:
            return None
        return SlackStream(self, await self._client(thread.workspace_id), thread, persona, reader)

    async def update(self, thread: ThreadRef, message_id: str, message: OutboundMessage) -> None:
        client = await self._client(thread.workspace_id)
        with platform_errors("an update"):
            await client.chat_update(channel=thread.channel_id, ts=message_id, **update_payload(message))

    async def find_posted(self, thread: ThreadRef, key: str) -> str | None:
        if not key or not thread.thread_id:
            return None
        client = await self._client(thread.workspace_id)
        cursor: str | None = None
        while True:
            with platform_errors("reading the thread"):
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
            _log.info("the working status of %s: %s", thread.key, slack_error_code(exc))

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
                raise NotInstalledError(f"threadcrew is not installed in Slack workspace {workspace_id}")
            client = self._clients[workspace_id] = self._new_client(bot.bot_token)
        return client
