"""The gateway's messages and interactions, turned into thread events and handed to the bot.

Events are handed over in the order they came. A mention in a channel first opens the thread
on it. An interaction is handed over before it is answered (see ``interactions``).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import discord

from ..files import Offered, fetch_images
from ..thread import Attachment, EventHandler, SkippedFile, ThreadEvent
from ._objects import interaction_payload, message_payload, read_attachment
from .config import DiscordConfig
from .events import button_event, command_event, message_event
from .interactions import RecentAnswers, answer_after, first_answer
from .render import parse_custom_id, thread_name
from .threads import place_of, start_thread
from .webhooks import WebhookBook

__all__ = ["Intake"]


class Intake:
    """What the gateway delivers, as :class:`ThreadEvent` s for ``on_event`` (set when the platform runs).

    Args:
        config: which guilds, channels and bots are heard, and the limits on images.
        webhooks: the agents' webhooks, whose own posts are not heard.
        answers: where each person's latest interaction is kept for private answers.
    """

    def __init__(self, config: DiscordConfig, webhooks: WebhookBook, answers: RecentAnswers) -> None:
        self.config = config
        self.webhooks = webhooks
        self.answers = answers
        self.on_event: EventHandler | None = None
        self._order = asyncio.Lock()  # events are handed over in the order they came

    async def _deliver(self, event: ThreadEvent) -> None:
        if self.on_event is not None:
            await self.on_event(event)

    async def on_message(self, client: discord.Client, message: discord.Message) -> None:
        """Hand over a person's message (and open the thread on a mention); others are left alone."""
        async with self._order:  # taken before any await: messages are handed over in the order they came
            if message.guild is None or client.user is None or message.author.id == client.user.id:
                return
            place = await place_of(client, message.channel, message.guild.id)
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
                await start_thread(client, place.channel_id, str(message.id), thread_name(event.text))
            await self._deliver(event)

    async def _images(self, message: discord.Message) -> tuple[tuple[Attachment, ...], tuple[SkippedFile, ...]]:
        """The images attached to ``message``, fetched now (their URLs expire), and the files left out."""
        offered = [Offered(a.filename, a.content_type or "", a.size, a) for a in message.attachments]
        return await fetch_images(
            offered, read_attachment, max_bytes=self.config.image_limit, max_count=self.config.max_images
        )

    async def on_interaction(self, client: discord.Client, interaction: discord.Interaction) -> None:
        """Hand over a press of one of our buttons or our slash command, then answer it."""
        data: Any = interaction.data or {}
        if interaction.guild_id is None:
            return
        button = interaction.type == discord.InteractionType.component
        if button and parse_custom_id(str(data.get("custom_id", ""))) is None:
            return  # not one of ours
        if not button and (
            interaction.type != discord.InteractionType.application_command or data.get("name") != self.config.command
        ):
            return
        channel = interaction.channel or client.get_partial_messageable(interaction.channel_id or 0)
        place = await place_of(client, channel, interaction.guild_id)
        answer = self.answers.remember(place.thread_id or place.channel_id, str(interaction.user.id), interaction)
        if not self.config.allows(place.guild_id, place.channel_id):
            await answer.privately("threadcrew is not enabled in this channel.")
            return
        payload = interaction_payload(interaction)
        event = button_event(payload, place) if button else command_event(payload, place)
        if event is None:
            await answer.acknowledge(interaction.response.defer)
            return
        # Kept first, answered after (see interactions.py): an event Discord was answered for is in the inbox.
        await answer_after(self._deliver_in_order(event), answer, functools.partial(first_answer, interaction))

    async def _deliver_in_order(self, event: ThreadEvent) -> None:
        async with self._order:
            await self._deliver(event)
