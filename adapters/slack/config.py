"""How threadcrew meets Slack: the adapter's settings, and the scopes its app asks for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..files import MAX_IMAGE_BYTES, MAX_IMAGES

__all__ = ["BOT_SCOPES", "SlackConfig"]

BOT_SCOPES = [
    "app_mentions:read",
    "channels:history",
    "channels:read",
    "groups:read",
    "groups:history",
    "im:history",
    "mpim:history",
    "chat:write",
    "chat:write.customize",
    "commands",
    "files:read",
    "files:write",
    "reactions:write",
    "users:read",
]


@dataclass(frozen=True)
class SlackConfig:
    """How threadcrew meets Slack.

    Attributes:
        mode: ``socket`` (an app-level token; no public URL) or ``http`` (Slack posts to
            ``http_path`` on the bot's web server; requests are checked with ``signing_secret``).
        bot_token: one workspace's bot token (``xoxb-``); without it, HTTP mode installs into
            many workspaces through OAuth (``client_id``, ``client_secret``).
        api_url: Slack's Web API (a proxy, or a local fake in tests).
        allowed_channels: channel ids the bot works in; empty for every channel it is in.
        allow_bots: whether other bots' messages count as people's.
        command: the slash command.
        image_limit: the largest image (bytes) fetched from people's messages (for vision models).
        max_images: the most images fetched from one message (the rest are named to the team).
    """

    mode: Literal["socket", "http"] = "socket"
    bot_token: str | None = None
    app_token: str | None = None
    signing_secret: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    api_url: str = "https://slack.com/api/"
    http_path: str = "/slack/events"
    install_path: str = "/slack/install"
    redirect_path: str = "/slack/oauth_redirect"
    allowed_channels: frozenset[str] = field(default_factory=frozenset)
    allow_bots: bool = False
    command: str = "/threadcrew"
    retries: int = 5
    image_limit: int = MAX_IMAGE_BYTES
    max_images: int = MAX_IMAGES
