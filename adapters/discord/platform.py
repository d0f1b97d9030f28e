"""Discord as a ChatPlatform, on discord.py: the gateway for events, REST and webhooks for posts.

A mention of the bot in a text channel opens a public thread on that message (its id becomes
the thread's); messages in threads reach the bot as messages, no mention needed. Agents post
through the parent channel's webhook under their own names. Buttons and the slash command come
as interactions, deferred first thing (Discord wants an answer within 3 s); every press is
read from its ``custom_id`` alone, so a button from before a restart works the same.

Private answers (``ephemeral_for``) go as an ephemeral follow-up of that person's latest
interaction in the thread or channel. Without one (a mention by someone who may not start a
run), Discord has no way to show text to one person short of a direct message, which
threadcrew does not send: the note is logged, not posted.
"""

from __future__ import annotations

import asyncio
import collections
import io
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import discord
import yarl
from aiohttp import web
from discord.gateway import DiscordWebSocket

from ..errors import PlatformError
from ..files import Offered, fetch_images
from ..thread import (
    Attachment,
    Button,
    Capabilities,
    ChannelAccess,
    EventHandler,
    MessageStream,
    OutboundMessage,
    Persona,
    SkippedFile,
    ThreadEvent,
    ThreadRef,
)
from ._errors import ARCHIVED_THREAD, THREAD_EXISTS, UNKNOWN_CHANNEL, UNKNOWN_WEBHOOK, discord_code, platform_errors
from ._objects import button_view, interaction_payload, message_payload, read_attachment
from .channels import check_channel
from .config import API_URL, PORTAL, DiscordConfig, intents
from .events import Place, button_event, command_event, message_event
from .render import find_key, message_pieces, parse_custom_id, thread_name, within_upload_limit
from .streams import DiscordStream
from .webhooks import MemoryStateStore, StateStore, WebhookBook

__all__ = ["DiscordPlatform"]

_log = logging.getLogger(__name__)

HISTORY = 100  # recent messages find_posted looks through
CHANNEL_COMMANDS = ("schedule", "schedules")  # answered privately later, also when typed in a thread
REMEMBERED_INTERACTIONS = 1000
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
        self.client: discord.Client | None = None
        self._on_event: EventHandler | None = None
        self._closed = asyncio.Event()
        self._login = asyncio.Lock()
        self._running = False
        self._order = asyncio.Lock()  # events are handed over in the order they came
        self._typing: dict[str, asyncio.Task[None]] = {}
        self._interactions: collections.OrderedDict[tuple[str, str], discord.Interaction] = collections.OrderedDict()

    # -- running ---------------------------------------------------------------------------------------

    def _new_client(self) -> discord.Client:
        sharded = self.config.shard_ids is not None or self.config.shard_count is not None
        base: type[discord.Client] = discord.AutoShardedClient if sharded else discord.Client
        platform = self

        class Listener(base):  # type: ignore[valid-type,misc]
            async def on_message(self, message: discord.Message) -> None:
                await platform._on_message(message)

            async def on_interaction(self, interaction: discord.Interaction) -> None:
                await platform._on_interaction(interaction)

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
        self._on_event = on_event
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

    # -- events in ---------------------------------------------------------------------------------------

    async def _deliver(self, event: ThreadEvent) -> None:
        if self._on_event is not None:
            await self._on_event(event)

    async def _place(self, channel: Any, guild_id: int) -> Place:
        """Where ``channel`` sits (a thread's parent); asks Discord for a channel not in the cache."""
        if isinstance(channel, discord.PartialMessageable):
            assert self.client is not None
            channel = await self.client.fetch_channel(channel.id)
        if isinstance(channel, discord.Thread):
            return Place(str(guild_id), str(channel.parent_id), str(channel.id))
        return Place(str(guild_id), str(channel.id))

    async def _on_message(self, message: discord.Message) -> None:
        async with self._order:  # taken before any await: messages are handed over in the order they came
            client = self.client
            if message.guild is None or client is None or client.user is None or message.author.id == client.user.id:
                return
            place = await self._place(message.channel, message.guild.id)
            if message.webhook_id is not None and (
                not self.config.allow_bots or await self.webhooks.is_ours(message.webhook_id, place.channel_id)
            ):
                return  # the agents' own posts, or another webhook's
            if message.author.bot and not self.config.allow_bots:
                return
            if not self.config.allows(place.guild_id, place.channel_id):
                return
            images, skipped = await self._images(message)
            event = message_event(
                message_payload(message), place, bot_user_id=str(client.user.id), attachments=images, skipped=skipped
            )
            if event is None:
                return
            if place.thread_id is None and event.kind == "mention":  # the conversation lives in a thread on it
                await self._start_thread(place.channel_id, str(message.id), thread_name(event.text))
            await self._deliver(event)

    async def _images(self, message: discord.Message) -> tuple[tuple[Attachment, ...], tuple[SkippedFile, ...]]:
        """The images attached to ``message``, fetched now (their URLs expire), and the files left out."""
        offered = [Offered(a.filename, a.content_type or "", a.size, a) for a in message.attachments]
        return await fetch_images(
            offered, read_attachment, max_bytes=self.config.image_limit, max_count=self.config.max_images
        )

    async def _on_interaction(self, interaction: discord.Interaction) -> None:
        data: Any = interaction.data or {}
        if interaction.guild_id is None or self.client is None:
            return
        kind = interaction.type
        if kind == discord.InteractionType.component:
            if parse_custom_id(str(data.get("custom_id", ""))) is None:
                return  # not one of ours
            await interaction.response.defer()  # first thing: Discord wants an answer within 3 s
        elif kind == discord.InteractionType.application_command and data.get("name") == self.config.command:
            await self._acknowledge_command(interaction)
        else:
            return
        channel = interaction.channel or self.client.get_partial_messageable(interaction.channel_id or 0)
        place = await self._place(channel, interaction.guild_id)
        payload = interaction_payload(interaction)
        self._remember(place.thread_id or place.channel_id, str(interaction.user.id), interaction)
        if not self.config.allows(place.guild_id, place.channel_id):
            await interaction.followup.send("threadcrew is not enabled in this channel.", ephemeral=True)
            return
        event = (
            button_event(payload, place) if kind == discord.InteractionType.component else command_event(payload, place)
        )
        if event is not None:
            async with self._order:
                await self._deliver(event)

    @staticmethod
    async def _acknowledge_command(interaction: discord.Interaction) -> None:
        """In a channel the bot answers privately later (Discord shows "thinking" until then); in a
        thread the run answers in the thread, so the person is told at once that it was heard (the
        schedule commands are the channel's: answered privately later wherever they are typed)."""
        data: Any = interaction.data or {}
        sub = next((o.get("name") for o in data.get("options", ()) if o.get("type") in (1, 2)), "help")
        if isinstance(interaction.channel, discord.Thread) and sub not in CHANNEL_COMMANDS:
            await interaction.response.send_message(f"`{sub}` goes to this thread's run.", ephemeral=True)
        else:
            await interaction.response.defer(ephemeral=True, thinking=True)

    def _remember(self, where: str, user: str, interaction: discord.Interaction) -> None:
        self._interactions[(where, user)] = interaction
        self._interactions.move_to_end((where, user))
        while len(self._interactions) > REMEMBERED_INTERACTIONS:
            self._interactions.popitem(last=False)

    # -- posting -----------------------------------------------------------------------------------------

    async def open_thread(self, workspace_id: str, channel_id: str, message: OutboundMessage) -> ThreadRef:
        """Post ``message`` in the channel and open a public thread on it.

        Raises:
            PlatformError: Discord refused (the bot may not post or create threads there).
        """
        if not workspace_id:  # the channel knows its guild
            client = await self._rest()
            with platform_errors("looking up the channel"):
                found = await client.http.get_channel(int(channel_id))
            workspace_id = str(found.get("guild_id") or "")
        first = await self.post(ThreadRef(self.name, workspace_id, channel_id, ""), message)
        thread_id = await self._start_thread(channel_id, first, thread_name(message.text))
        return ThreadRef(self.name, workspace_id, channel_id, thread_id)

    async def can_post_in(self, workspace_id: str, channel_id: str) -> ChannelAccess:
        """Whether the bot can see the channel and post and open threads there (see ``channels``)."""
        try:
            client = await self._rest()
        except PlatformError as exc:
            return ChannelAccess(None, f"I cannot check channel {channel_id} now: {exc}")
        return await check_channel(client, self.config, workspace_id, channel_id)

    async def _start_thread(self, channel_id: str, message_id: str, name: str) -> str:
        client = await self._rest()
        try:
            with platform_errors("opening a thread"):
                made = await client.http.start_thread_with_message(
                    int(channel_id), int(message_id), name=name, auto_archive_duration=1440
                )
        except PlatformError as exc:
            if discord_code(exc.__cause__) == THREAD_EXISTS:
                return message_id  # opened already (a message delivered twice, a retried post)
            raise
        return str(made["id"])

    async def post(self, thread: ThreadRef, message: OutboundMessage) -> str:
        """Post into the thread through the channel's webhook (as the bot when there is none).

        Raises:
            PlatformError: Discord refused or could not be reached (``code`` says why).
        """
        if message.ephemeral_for:
            return await self._post_privately(thread, message)
        files, notes = within_upload_limit(message.attachments, self.config.upload_limit)
        hook = await self.webhooks.get(await self._rest(), thread.channel_id)
        pieces = message_pieces(message, personas=hook is not None, notes=notes)
        first = ""
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            sent = await self._send(
                thread, message.persona, piece, buttons=message.buttons if last else (), files=files if last else []
            )
            first = first or sent
        return first

    async def _send(
        self, thread: ThreadRef, persona: Persona, content: str, *, buttons: tuple[Button, ...], files: list[Attachment]
    ) -> str:
        """One message; a gone webhook is made again, a missing thread opened, an archived one reopened."""
        client = await self._rest()
        for attempt in range(3):
            hook = await self.webhooks.get(client, thread.channel_id)
            options = self._message_options(content, buttons, files)
            try:
                with platform_errors("a post"):
                    if hook is None:
                        target = client.get_partial_messageable(int(thread.thread_id or thread.channel_id))
                        return str((await target.send(**options)).id)
                    if thread.thread_id:
                        options["thread"] = discord.Object(int(thread.thread_id))
                    if persona.icon_url:
                        options["avatar_url"] = persona.icon_url
                    sent = await hook.send(username=persona.label[:80], wait=True, **options)
                    return str(sent.id)
            except PlatformError as exc:
                if attempt == 2 or not await self._recover(thread, discord_code(exc.__cause__), hook is not None):
                    raise
        raise AssertionError("unreachable")

    async def _recover(self, thread: ThreadRef, code: int | None, through_hook: bool) -> bool:
        """Mend what a refused post says is wrong; whether to try again."""
        if code == UNKNOWN_WEBHOOK and through_hook:
            _log.info("the webhook of channel %s is gone: making a new one", thread.channel_id)
            await self.webhooks.forget(thread.channel_id)
            return True
        if code == UNKNOWN_CHANNEL and thread.thread_id:  # a thread not opened yet (a trigger word)
            await self._start_thread(thread.channel_id, thread.thread_id, "threadcrew")
            return True
        if code == ARCHIVED_THREAD and thread.thread_id:
            client = await self._rest()
            with platform_errors("reopening an archived thread"):
                await client.http.edit_channel(int(thread.thread_id), archived=False)
            return True
        return False

    @staticmethod
    def _message_options(content: str, buttons: tuple[Button, ...], files: list[Attachment]) -> dict[str, Any]:
        options: dict[str, Any] = {
            "content": content or "\u200b",
            "allowed_mentions": discord.AllowedMentions.none(),  # nothing an agent writes pings anyone
        }
        view = button_view(buttons)
        if view is not None:
            options["view"] = view
        if files:
            options["files"] = [discord.File(io.BytesIO(f.data), filename=f.name) for f in files]
        return options

    async def _post_privately(self, thread: ThreadRef, message: OutboundMessage) -> str:
        """An ephemeral follow-up of the person's latest interaction here; else logged (see the module)."""
        user = message.ephemeral_for or ""
        interaction = self._interactions.get((thread.thread_id or thread.channel_id, user))
        text = message_pieces(message, personas=True)[0]
        if interaction is None or interaction.is_expired():
            _log.info("no interaction of %s to answer privately in %s; not posted: %s", user, thread.key, text)
            return ""
        with platform_errors("a private answer"):
            sent = await interaction.followup.send(
                text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none(), wait=True
            )
        return str(sent.id)

    async def update(self, thread: ThreadRef, message_id: str, message: OutboundMessage) -> None:
        """Replace a posted message's text and buttons (its first piece when it was split); an
        archived thread is reopened first when Discord says so."""
        client = await self._rest()
        hook = await self.webhooks.get(client, thread.channel_id)
        options = self._message_options(message_pieces(message, personas=hook is not None)[0], message.buttons, [])
        options.setdefault("view", None)  # no buttons: take the old ones away
        try:
            await self._edit(client, hook, thread, message_id, options)
        except PlatformError as exc:
            if discord_code(exc.__cause__) != ARCHIVED_THREAD or not await self._recover(
                thread, ARCHIVED_THREAD, False
            ):
                raise
            await self._edit(client, hook, thread, message_id, options)

    async def _edit(
        self,
        client: discord.Client,
        hook: discord.Webhook | None,
        thread: ThreadRef,
        message_id: str,
        options: dict[str, Any],
    ) -> None:
        """Edit through the webhook; a message it did not post (the bot's own) is edited as the bot."""
        if hook is not None:
            try:
                thread_option = discord.Object(int(thread.thread_id)) if thread.thread_id else discord.utils.MISSING
                with platform_errors("an update"):
                    await hook.edit_message(int(message_id), thread=thread_option, **options)
                return
            except PlatformError as exc:
                _log.debug("the webhook could not edit it (%s): editing it as the bot", exc)
        target = client.get_partial_messageable(int(thread.thread_id or thread.channel_id))
        with platform_errors("an update"):
            await target.get_partial_message(int(message_id)).edit(**options)

    async def delete(self, thread: ThreadRef, message_id: str) -> None:
        """Take a posted message away (a streamed reply that was not kept)."""
        client = await self._rest()
        hook = await self.webhooks.get(client, thread.channel_id)
        if hook is not None:
            try:
                thread_option = discord.Object(int(thread.thread_id)) if thread.thread_id else discord.utils.MISSING
                with platform_errors("a deletion"):
                    await hook.delete_message(int(message_id), thread=thread_option)
                return
            except PlatformError as exc:
                _log.debug("not the webhook's message (%s): deleting it as the bot", exc)
        target = client.get_partial_messageable(int(thread.thread_id or thread.channel_id))
        with platform_errors("a deletion"):
            await target.get_partial_message(int(message_id)).delete()

    async def find_posted(self, thread: ThreadRef, key: str) -> str | None:
        """The message carrying ``key`` among the thread's recent ones (see ``render``), or None."""
        if not key:
            return None
        client = await self._rest()
        try:
            with platform_errors("reading the thread"):
                recent = await client.http.logs_from(int(thread.thread_id or thread.channel_id), HISTORY)
        except PlatformError as exc:
            if exc.status == 404:
                return None  # the thread is not opened yet: nothing was posted in it
            raise
        return next((str(m["id"]) for m in recent if find_key(m.get("content") or "") == key), None)

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
