"""The Discord platform from the settings, with errors that name the setting and the fix."""

from __future__ import annotations

from adapters.discord import DiscordConfig, DiscordPlatform
from storage import Database

from .errors import StartupError
from .platform_state import DatabaseStateStore
from .settings import Settings

__all__ = ["discord_config", "discord_platform"]

PLATFORM = "discord"


def _ids(value: str, setting: str) -> frozenset[str]:
    ids = frozenset(part.strip() for part in value.split(",") if part.strip())
    bad = sorted(i for i in ids if not i.isdigit())
    if bad:
        raise StartupError(
            f"THREADCREW_{setting} takes Discord ids (numbers, comma-separated; Developer Mode > Copy ID), "
            f"not {', '.join(bad)}"
        )
    return ids


def discord_config(settings: Settings) -> DiscordConfig:
    """Check the Discord settings and turn them into the adapter's config.

    Raises:
        StartupError: a setting is missing or malformed; the message says which and how to fix it.
    """
    token = settings.discord_token.get_secret_value() if settings.discord_token is not None else ""
    if not token:
        raise StartupError(
            "Discord needs THREADCREW_DISCORD_TOKEN: the bot's token (Developer Portal > your application > "
            "Bot > Reset Token)"
        )
    if token.startswith(("xox", "Bot ")) or token.count(".") != 2:
        raise StartupError(
            "THREADCREW_DISCORD_TOKEN is not a Discord bot token (three parts separated by dots, without 'Bot ')"
        )
    shard_ids = tuple(sorted(int(i) for i in _ids(settings.discord_shard_ids, "DISCORD_SHARD_IDS")))
    count = settings.discord_shard_count
    if shard_ids and count is None:
        raise StartupError(
            "THREADCREW_DISCORD_SHARD_IDS needs THREADCREW_DISCORD_SHARD_COUNT (the shards of all processes)"
        )
    if shard_ids and count is not None and max(shard_ids) >= count:
        raise StartupError(f"THREADCREW_DISCORD_SHARD_IDS must be below THREADCREW_DISCORD_SHARD_COUNT ({count})")
    return DiscordConfig(
        token=token,
        api_url=settings.discord_api_url,
        allowed_guilds=_ids(settings.discord_allowed_guilds, "DISCORD_ALLOWED_GUILDS"),
        allowed_channels=_ids(settings.discord_allowed_channels, "DISCORD_ALLOWED_CHANNELS"),
        allow_bots=settings.discord_allow_bots,
        shard_ids=shard_ids or None,
        shard_count=settings.discord_shard_count,
    )


def discord_platform(settings: Settings, db: Database) -> DiscordPlatform:
    """The Discord platform, remembering its webhooks in ``db``."""
    return DiscordPlatform(discord_config(settings), store=DatabaseStateStore(db, PLATFORM))
