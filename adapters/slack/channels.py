"""Whether the bot can post in a Slack channel, read from ``conversations.info`` (pure functions).

Slack sends a channel's messages to the bot only where it is a member, and refuses its posts
elsewhere (``not_in_channel``), so membership is what counts. ``conversations.info`` needs the
``channels:read`` scope (public channels) and ``groups:read`` (private ones); an app installed
before threadcrew asked for them gets ``missing_scope``, and the answer is "cannot tell".
"""

from __future__ import annotations

from typing import Any

from ..thread import ChannelAccess

__all__ = ["channel_access", "refused_access"]

_SCOPES_FIX = "add the channels:read and groups:read scopes to the Slack app (OAuth & Permissions) and reinstall it"


def channel_access(channel: dict[str, Any], channel_id: str, bot_name: str) -> ChannelAccess:
    """What ``conversations.info`` said of the channel (its ``channel`` object), for the bot ``bot_name``."""
    shown = f"#{channel['name']}" if channel.get("name") else channel_id
    if channel.get("is_archived"):
        return ChannelAccess(False, f"{shown} is archived: unarchive it or pick another channel")
    if channel.get("is_im") or channel.get("is_member"):
        return ChannelAccess(True)
    return ChannelAccess(False, f"I am not in {shown}: invite me there with /invite @{bot_name} (typed in {shown})")


def refused_access(code: str, channel_id: str, bot_name: str) -> ChannelAccess:
    """What Slack's refusal of ``conversations.info`` (its error ``code``) says about the channel."""
    if code == "channel_not_found":
        return ChannelAccess(
            False,
            f"I cannot see a channel {channel_id}: check its id (the channel's details, at the bottom); "
            f"a private channel must invite me first with /invite @{bot_name}",
        )
    if code == "missing_scope":
        return ChannelAccess(None, f"I cannot check whether I am in {channel_id}: {_SCOPES_FIX}")
    return ChannelAccess(None, f"I cannot check whether I am in {channel_id}: Slack answered {code}")
