"""``/threadcrew`` registered with Discord: explicitly (``threadcrew discord sync-commands``), never on connect."""

from __future__ import annotations

import discord

from ._errors import platform_errors
from .config import API_URL, DiscordConfig
from .render import slash_command

__all__ = ["sync_commands"]


async def sync_commands(config: DiscordConfig, guild_id: str | None = None) -> str:
    """Overwrite the application's commands with ``/threadcrew``: in one guild (at once), or
    globally (Discord may take up to an hour to show them everywhere). Returns the application id.

    Raises:
        PlatformError: Discord refused the token or the call.
    """
    if config.api_url != API_URL:
        discord.http.Route.BASE = config.api_url.rstrip("/")
    client = discord.Client(intents=discord.Intents.none())
    async with client:
        with platform_errors("logging in"):
            await client.login(config.token)
        application = client.application_id
        assert application is not None
        commands = [slash_command(config.command)]
        with platform_errors("registering the slash command"):
            if guild_id:
                await client.http.bulk_upsert_guild_commands(application, int(guild_id), commands)
            else:
                await client.http.bulk_upsert_global_commands(application, commands)
    return str(application)
