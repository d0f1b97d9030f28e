"""Where a Discord thread is: a plain URL from its guild's and its own ids (no API call)."""

from __future__ import annotations

__all__ = ["WEB_URL", "thread_url"]

WEB_URL = "https://discord.com"


def thread_url(guild_id: str, thread_id: str) -> str:
    """The thread's address in Discord's app and web client: ``https://discord.com/channels/G/T``."""
    return f"{WEB_URL}/channels/{guild_id}/{thread_id}"
