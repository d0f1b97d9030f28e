"""Discord as a ChatPlatform, on discord.py: the gateway for events, REST and webhooks for posts.

A mention of the bot in a text channel opens a public thread on that message (its id becomes
the thread's); messages in threads reach the bot as messages, no mention needed. Agents post
through the parent channel's webhook under their own names. Buttons and the slash command come
as interactions, answered once the bot has kept them, within Discord's 3 s (interactions.py);
every press is read from its ``custom_id`` alone, so a button from before a restart works the
same. Messages come over the gateway, which has no acknowledgement: one that arrives as the
process dies is lost (Discord does not send it again).

Private answers (``ephemeral_for``) go as an ephemeral follow-up of that person's latest
interaction in the thread or channel. Without one (a mention by someone who may not start a
run), Discord has no way to show text to one person short of a direct message, which
threadcrew does not send: the note is logged, not posted.

The platform is the connection and the face: the gateway's events come in through ``intake``,
posts go out through ``posting`` (webhooks in ``webhooks``), threads are looked up and opened
in ``threads``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import discord
import yarl
from aiohttp import web
from discord.gateway import DiscordWebSocket

from ..errors import PlatformError
from ..thread import (
    Capabilities,
    ChannelAccess,
    EventHandler,
    MessageStream,
    OutboundMessage,
    Persona,
    ThreadRef,
)
from ._errors import platform_errors
from .channels import check_channel
from .config import API_URL, PORTAL, DiscordConfig, intents
from .intake import Intake
from .interactions import RecentAnswers
from .posting import Poster
from .render import thread_name
from .streams import DiscordStream
from .threads import guild_of, start_thread
from .webhooks import MemoryStateStore, StateStore, WebhookBook

__all__ = ["DiscordPlatform"]

_log = logging.getLogger(__name__)

INTENT_HELP = (
    "Discord refused the Message Content intent. Enable it in the Developer Portal ({portal}): your application "
    "> Bot > Privileged Gateway Intents > Message Content Intent, save, and start threadcrew again."
)


class DiscordPlatform:
    """Discord threads, in the neutral thread model.

    Args:
        config: the token and rules.
        store: where the channels' webhooks are remembered (the bot's database); in memory if not given.
        clock: seconds, for spacing the edits of a streamed reply.
    """

    name = "discord"

    def __init__(
        self, config: DiscordConfig, *, store: StateStore | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self.clock = clock
        self.capabilities = Capabilities(
            personas=True,
            buttons=True,
            edits=True,
            ephemeral=True,  # interaction follow-ups; see the module's docstring
            streaming=True,
            stream_seconds=None,
            uploads=True,
            typing=True,
            max_message_chars=2000,
            command=f"/{config.command}",
        )
        self.webhooks = WebhookBook(store or MemoryStateStore())
        answers = RecentAnswers()
        self.intake = Intake(config, self.webhooks, answers)
        self.poster = Poster(config, self.webhooks, answers, self._rest)
        self.client: discord.Client | None = None
        self._closed = asyncio.Event()
        self._login = asyncio.Lock()
        self._running = False
        self._typing: dict[str, asyncio.Task[None]] = {}

    # -- running ---------------------------------------------------------------------------------------

    def _new_client(self) -> discord.Client:
        sharded = self.config.shard_ids is not None or self.config.shard_count is not None
        base: type[discord.Client] = discord.AutoShardedClient if sharded else discord.Client
        intake = self.intake

        class Listener(base):  # type: ignore[valid-type,misc]
            async def on_message(self, message: discord.Message) -> None:
                await intake.on_message(self, message)

            async def on_interaction(self, interaction: discord.Interaction) -> None:
                await intake.on_interaction(self, interaction)

        options: dict[str, Any] = {"intents": intents(), "max_messages": None}
        if sharded:
            options.update(shard_ids=list(self.config.shard_ids or ()) or None, shard_count=self.config.shard_count)
        client: discord.Client = Listener(**options)
        return client

    async def run(self, on_event: EventHandler) -> None:
        """Connect and deliver events to ``on_event`` until :meth:`close`.

        Raises:
            PlatformError: Discord refused the token or the Message Content intent (the message says
                where to fix it), or could not be reached.
        """
        self.intake.on_event = on_event
        self._running = True
        try:
            client = await self._rest()
            await self._find_gateway(client)
            connecting = asyncio.create_task(client.connect(reconnect=True), name="discord gateway")
            closing = asyncio.create_task(self._closed.wait())
            await asyncio.wait({connecting, closing}, return_when=asyncio.FIRST_COMPLETED)
            closing.cancel()
            if connecting.done():
                connecting.result()
        except discord.PrivilegedIntentsRequired as exc:
            raise PlatformError(INTENT_HELP.format(portal=PORTAL), code="4014") from exc
        except (discord.HTTPException, discord.GatewayNotFound, discord.ConnectionClosed) as exc:
            raise PlatformError(f"Discord could not be reached: {exc}") from exc
        finally:
            self._running = False
            await self._shut()

    async def _find_gateway(self, client: discord.Client) -> None:
        """Elsewhere than discord.com (a proxy, a fake), the gateway is where the REST API says."""
        if self.config.api_url != API_URL:
            _, url, _ = await client.http.get_bot_gateway()
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.is_ready() and not self.client.is_closed()

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return ()

    async def close(self) -> None:
        """Stop :meth:`run`; without one (a bot that only posts), let the REST client go."""
        self._closed.set()
        if not self._running:
            await self._shut()

    async def _shut(self) -> None:
        for task in self._typing.values():
            task.cancel()
        self._typing.clear()
        if self.client is not None:
            await self.client.close()

    async def _rest(self) -> discord.Client:
        """The client, logged in: posting needs the REST API only, not the gateway (``threadcrew
        start`` posts without taking events)."""
        async with self._login:
            if self.client is None:
                if self.config.api_url != API_URL:
                    discord.http.Route.BASE = self.config.api_url.rstrip("/")  # discord.py keeps it per process
                client = self._new_client()
                try:
                    with platform_errors("logging in"):
                        await client.login(self.config.token)
                except PlatformError as exc:
                    await client.close()
                    if isinstance(exc.__cause__, discord.LoginFailure):
                        raise PlatformError(
                            "Discord refused THREADCREW_DISCORD_TOKEN: copy the bot's token again "
                            "(Developer Portal > your application > Bot > Reset Token)",
                            status=401,
                            code="invalid_token",
                        ) from exc
                    raise
                self.client = client
        return self.client

    # -- threads -----------------------------------------------------------------------------------------

    async def open_thread(self, workspace_id: str, channel_id: str, message: OutboundMessage) -> ThreadRef:
        """Post ``message`` in the channel and open a public thread on it.

        Raises:
            PlatformError: Discord refused (the bot may not post or create threads there).
        """
        if not workspace_id:  # the channel knows its guild
            workspace_id = await guild_of(await self._rest(), channel_id)
        first = await self.post(ThreadRef(self.name, workspace_id, channel_id, ""), message)
        thread_id = await start_thread(await self._rest(), channel_id, first, thread_name(message.text))
        return ThreadRef(self.name, workspace_id, channel_id, thread_id)

    async def can_post_in(self, workspace_id: str, channel_id: str) -> ChannelAccess:
        """Whether the bot can see the channel and post and open threads there (see ``channels``)."""
        try:
            client = await self._rest()
        except PlatformError as exc:
            return ChannelAccess(None, f"I cannot check channel {channel_id} now: {exc}")
        return await check_channel(client, self.config, workspace_id, channel_id)

    # -- posting ---------------------------------------------------------------------------------------

    async def post(self, thread: ThreadRef, message: OutboundMessage) -> str:
        """Post into the thread (see :meth:`Poster.post`)."""
        return await self.poster.post(thread, message)

    async def update(self, thread: ThreadRef, message_id: str, message: OutboundMessage) -> None:
        """Replace a posted message's text and buttons (see :meth:`Poster.update`)."""
        await self.poster.update(thread, message_id, message)

    async def delete(self, thread: ThreadRef, message_id: str) -> None:
        """Take a posted message away (see :meth:`Poster.delete`)."""
        await self.poster.delete(thread, message_id)

    async def find_posted(self, thread: ThreadRef, key: str) -> str | None:
        """The message carrying ``key`` (see :meth:`Poster.find_posted`), or None."""
        return await self.poster.find_posted(thread, key)

    # -- typing and streaming ----------------------------------------------------------------------------

    async def set_status(self, thread: ThreadRef, status: str | None) -> None:
        """The typing indicator, renewed while a status is set (Discord shows it for 10 s)."""
        if not thread.thread_id:
            return
        running = self._typing.get(thread.key)
        if status is None:
            if running is not None:
                running.cancel()
                del self._typing[thread.key]
            return
        if running is None or running.done():
            client = await self._rest()
            self._typing[thread.key] = asyncio.create_task(self._keep_typing(client, int(thread.thread_id)))

    async def _keep_typing(self, client: discord.Client, channel_id: int) -> None:
        while True:
            try:
                await client.http.send_typing(channel_id)
            except discord.HTTPException as exc:
                _log.info("no typing indicator in %s: %s", channel_id, exc)
                return
            await asyncio.sleep(self.config.typing_every)

    async def start_stream(
        self, thread: ThreadRef, persona: Persona, *, reader: str | None = None
    ) -> MessageStream | None:
        """A message edited at most once a second while the reply is written."""
        if not thread.thread_id:
            return None
        return DiscordStream(self, thread, persona)
