"""Posting into Discord threads: each agent under its own name through the channel's webhook, split
at Discord's limits, with buttons and files; edits, deletions, private answers, and finding what
was posted already.

A refused post is mended where Discord says what is wrong (a webhook someone deleted is made
again, a thread not opened yet is opened, an archived one reopened) and tried again.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from ..errors import PlatformError
from ..thread import Attachment, Button, OutboundMessage, Persona, ThreadRef
from ._errors import ARCHIVED_THREAD, UNKNOWN_CHANNEL, UNKNOWN_WEBHOOK, discord_code, platform_errors
from ._objects import button_view
from .config import DiscordConfig
from .interactions import RecentAnswers
from .render import find_key, message_pieces, within_upload_limit
from .threads import reopen, start_thread
from .webhooks import WebhookBook

__all__ = ["Poster"]

_log = logging.getLogger(__name__)

HISTORY = 100  # recent messages find_posted looks through


class Poster:
    """The platform's posts, edits and deletions.

    Args:
        config: the upload limit.
        webhooks: the channels' webhooks, the agents' personas.
        answers: each person's latest interaction, for private answers.
        rest: the logged-in client (logging in on first use).
    """

    def __init__(
        self,
        config: DiscordConfig,
        webhooks: WebhookBook,
        answers: RecentAnswers,
        rest: Callable[[], Awaitable[discord.Client]],
    ) -> None:
        self.config = config
        self.webhooks = webhooks
        self.answers = answers
        self._rest = rest

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
            await start_thread(await self._rest(), thread.channel_id, thread.thread_id, "threadcrew")
            return True
        if code == ARCHIVED_THREAD and thread.thread_id:
            await reopen(await self._rest(), thread.thread_id)
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
        """An ephemeral follow-up of the person's latest interaction here; else logged (see ``platform``)."""
        user = message.ephemeral_for or ""
        answer = self.answers.latest(thread.thread_id or thread.channel_id, user)
        text = message_pieces(message, personas=True)[0]
        if answer is None or answer.expired:
            _log.info("no interaction of %s to answer privately in %s; not posted: %s", user, thread.key, text)
            return ""
        with platform_errors("a private answer"):
            return await answer.privately(text)

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
