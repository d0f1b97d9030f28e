"""How threadcrew meets Discord: the adapter's settings, the permissions it asks for, the invite link."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

import discord

from ..errors import AdapterError
from ..files import MAX_IMAGE_BYTES, MAX_IMAGES

__all__ = ["API_URL", "PERMISSIONS", "DiscordConfig", "client_id_from_token", "intents", "invite_url"]

API_URL = "https://discord.com/api/v10"

# What the bot does in a channel, and nothing more: talk, open threads on messages and talk in
# them, post as personas through a webhook, attach files, and read the thread (``find_posted``).
PERMISSIONS = discord.Permissions(
    send_messages=True,
    create_public_threads=True,
    send_messages_in_threads=True,
    manage_webhooks=True,
    attach_files=True,
    read_message_history=True,
)

PORTAL = "https://discord.com/developers/applications"


@dataclass(frozen=True)
class DiscordConfig:
    """How threadcrew meets Discord.

    Attributes:
        token: the bot's token (Developer Portal > your application > Bot > Reset Token).
        api_url: Discord's REST API (a proxy, or a local fake in tests); the gateway's address
            comes from its ``GET /gateway/bot``.
        allowed_guilds: guild (server) ids the bot works in; empty for every guild it is in.
        allowed_channels: channel ids (a thread counts as its parent channel); empty for every one.
        allow_bots: whether other bots' (and other webhooks') messages count as people's.
        shard_ids, shard_count: this process's shards (``None``: one connection, or every shard
            Discord recommends when only ``shard_count`` is None and ``shard_ids`` is set).
        command: the slash command's name (``/threadcrew``).
        image_limit: the largest image (bytes) fetched from people's messages (for vision models).
        max_images: the most images fetched from one message (the rest are named to the team).
        upload_limit: the largest file (bytes) the bot attaches (Discord's limit for bots is 10 MiB).
        typing_every: seconds between typing indicators (Discord shows one for 10 s).
        edit_every: seconds between edits of a streamed reply (at most one a second).
    """

    token: str
    api_url: str = API_URL
    allowed_guilds: frozenset[str] = field(default_factory=frozenset)
    allowed_channels: frozenset[str] = field(default_factory=frozenset)
    allow_bots: bool = False
    shard_ids: tuple[int, ...] | None = None
    shard_count: int | None = None
    command: str = "threadcrew"
    image_limit: int = MAX_IMAGE_BYTES
    max_images: int = MAX_IMAGES
    upload_limit: int = 10 * 1024 * 1024
    typing_every: float = 8.0
    edit_every: float = 1.0

    def allows(self, guild_id: str, channel_id: str) -> bool:
        """Whether the bot works in ``channel_id`` (a thread's parent) of ``guild_id``."""
        if self.allowed_guilds and guild_id not in self.allowed_guilds:
            return False
        return not self.allowed_channels or channel_id in self.allowed_channels


def intents() -> discord.Intents:
    """Guilds, their messages, and the messages' content (privileged: enabled in the Developer Portal)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.message_content = True
    return wanted


def client_id_from_token(token: str) -> str:
    """The application's id, which a bot token starts with (base64 of the bot user's id).

    Raises:
        AdapterError: ``token`` does not look like a Discord bot token.
    """
    head = token.split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    if not decoded.isdigit():
        raise AdapterError("that is not a Discord bot token (its first part is the bot's id in base64); pass the id")
    return decoded


def invite_url(client_id: str) -> str:
    """The link that adds the bot to a server with :data:`PERMISSIONS` and the slash command."""
    if not client_id.isdigit():
        raise AdapterError(f"a Discord client id is a number (General Information > Application ID), not {client_id!r}")
    return discord.utils.oauth_url(client_id, permissions=PERMISSIONS, scopes=("bot", "applications.commands"))
