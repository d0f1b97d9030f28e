"""Discord's threads and channels as the platform reads and opens them, over the REST API.

A Discord thread is a channel under a parent channel; one started on a message takes that
message's id, so opening it again (a message delivered twice, a retried post) finds it there.
"""

from __future__ import annotations

from typing import Any

import discord

from ..errors import PlatformError
from ._errors import THREAD_EXISTS, discord_code, platform_errors
from .events import Place

__all__ = ["guild_of", "place_of", "reopen", "start_thread"]


async def place_of(client: discord.Client, channel: Any, guild_id: int) -> Place:
    """Where ``channel`` sits (a thread's parent); asks Discord for a channel not in the cache."""
    if isinstance(channel, discord.PartialMessageable):
        channel = await client.fetch_channel(channel.id)
    if isinstance(channel, discord.Thread):
        return Place(str(guild_id), str(channel.parent_id), str(channel.id))
    return Place(str(guild_id), str(channel.id))


async def guild_of(client: discord.Client, channel_id: str) -> str:
    """The id of the guild ``channel_id`` is in ("" when Discord names none).

    Raises:
        PlatformError: Discord refused or could not be reached.
    """
    with platform_errors("looking up the channel"):
        found = await client.http.get_channel(int(channel_id))
    return str(found.get("guild_id") or "")


async def start_thread(client: discord.Client, channel_id: str, message_id: str, name: str) -> str:
    """Open a public thread on the message ``message_id``; its id (that of the message).

    Raises:
        PlatformError: Discord refused (the bot may not create threads there).
    """
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


async def reopen(client: discord.Client, thread_id: str) -> None:
    """Unarchive a thread, so that it takes posts and edits again.

    Raises:
        PlatformError: Discord refused or could not be reached.
    """
    with platform_errors("reopening an archived thread"):
        await client.http.edit_channel(int(thread_id), archived=False)
