"""Whether the bot can open threads in a Discord channel: its permissions there, read from the REST
API (the channel, the server's roles, the bot's member) and computed as Discord documents it.

Base permissions are the @everyone role's and the bot's roles' (all of them for the server's
owner or an administrator); the channel's overwrites then apply in order: @everyone's, the
roles' together, the member's own. A run needs the channel to be a text or announcement
channel where the bot may view, send, create public threads and send in threads.
"""

from __future__ import annotations

from typing import Any

import discord

from ..errors import PlatformError
from ..thread import ChannelAccess
from ._errors import platform_errors
from .config import DiscordConfig

__all__ = ["TEXT_CHANNEL_TYPES", "channel_access", "check_channel", "permissions_in"]

TEXT_CHANNEL_TYPES = (0, 5)  # a text channel, an announcement channel
_NEEDED = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "create_public_threads": "Create Public Threads",
    "send_messages_in_threads": "Send Messages in Threads",
}


def permissions_in(channel: dict[str, Any], guild: dict[str, Any], member: dict[str, Any], user_id: str) -> int:
    """The permission bits of ``member`` (the user ``user_id``) in ``channel`` of ``guild``."""
    everything = discord.Permissions.all().value
    if str(guild.get("owner_id")) == user_id:
        return everything
    roles = {str(r["id"]): int(r.get("permissions") or 0) for r in guild.get("roles", ())}
    guild_id = str(guild["id"])
    mine = {str(r) for r in member.get("roles", ())}
    base = roles.get(guild_id, 0)  # @everyone's role has the server's id
    for role in mine:
        base |= roles.get(role, 0)
    if base & discord.Permissions(administrator=True).value:
        return everything
    overwrites = {str(o["id"]): (int(o.get("allow") or 0), int(o.get("deny") or 0)) for o in _overwrites(channel)}
    allowed, denied = overwrites.get(guild_id, (0, 0))
    base = (base & ~denied) | allowed
    allowed = denied = 0
    for role in mine:
        role_allow, role_deny = overwrites.get(role, (0, 0))
        allowed, denied = allowed | role_allow, denied | role_deny
    base = (base & ~denied) | allowed
    allowed, denied = overwrites.get(user_id, (0, 0))
    return (base & ~denied) | allowed


def _overwrites(channel: dict[str, Any]) -> list[dict[str, Any]]:
    return list(channel.get("permission_overwrites") or ())


def channel_access(
    channel: dict[str, Any], guild: dict[str, Any], member: dict[str, Any], user_id: str
) -> ChannelAccess:
    """Whether the bot (``member``, the user ``user_id``) can run teams in ``channel``; if not, what to grant."""
    shown = f"#{channel['name']}" if channel.get("name") else str(channel.get("id"))
    if channel.get("type") not in TEXT_CHANNEL_TYPES:
        return ChannelAccess(False, f"{shown} is not a text channel: pick a text channel, where I can open threads")
    granted = discord.Permissions(permissions_in(channel, guild, member, user_id))
    missing = [label for name, label in _NEEDED.items() if not getattr(granted, name)]
    if not missing:
        return ChannelAccess(True)
    return ChannelAccess(
        False,
        f"I may not post in {shown}: give threadcrew's role {', '.join(missing)} there "
        f"(Edit Channel > Permissions), then try again",
    )


async def check_channel(
    client: discord.Client, config: DiscordConfig, workspace_id: str, channel_id: str
) -> ChannelAccess:
    """The bot's access to ``channel_id`` (``client`` logged in); never raises for Discord's failures."""
    if not channel_id.isdigit():
        return ChannelAccess(
            False, f"{channel_id!r} is not a Discord channel id: right-click the channel > Copy Channel ID"
        )
    assert client.user is not None
    try:
        try:
            with platform_errors("looking up the channel"):
                channel: Any = await client.http.get_channel(int(channel_id))
        except PlatformError as exc:
            if exc.status not in (403, 404):
                raise
            return ChannelAccess(
                False,
                f"I cannot see a channel {channel_id}: check its id, or give threadcrew's role View Channel there",
            )
        guild_id = str(channel.get("guild_id") or workspace_id)
        if not config.allows(guild_id, channel_id):
            return ChannelAccess(False, f"threadcrew is not enabled in channel {channel_id} (its allowed channels)")
        with platform_errors("looking up the server"):
            guild: Any = await client.http.get_guild(int(guild_id), with_counts=False)
            member: Any = await client.http.get_member(int(guild_id), client.user.id)
    except PlatformError as exc:
        return ChannelAccess(None, f"I cannot check channel {channel_id} now: {exc}")
    return channel_access(channel, guild, member, str(client.user.id))
