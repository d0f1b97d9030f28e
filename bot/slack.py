"""The Slack platform from the settings, with errors that name the setting and the fix."""

from __future__ import annotations

from adapters.slack import SlackConfig, SlackPlatform, slack_installation_store, slack_oauth_state_store
from storage import Database

from .errors import StartupError
from .platform_state import DatabaseRequestInbox
from .settings import Settings

__all__ = ["slack_config", "slack_platform"]


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter is not None else None


def slack_config(settings: Settings) -> SlackConfig:
    """Check the Slack settings and turn them into the adapter's config.

    Raises:
        StartupError: a setting is missing or malformed; the message says which and how to fix it.
    """
    bot_token = _secret(settings.slack_bot_token)
    app_token = _secret(settings.slack_app_token)
    signing_secret = _secret(settings.slack_signing_secret)
    client_secret = _secret(settings.slack_client_secret)
    if bot_token is not None and not bot_token.startswith("xoxb-"):
        raise StartupError("THREADCREW_SLACK_BOT_TOKEN must be the app's bot token, which starts with xoxb-")
    if settings.slack_mode == "socket":
        if not app_token or not app_token.startswith("xapp-"):
            raise StartupError(
                "Slack Socket Mode needs THREADCREW_SLACK_APP_TOKEN: an app-level token (xapp-...) with the "
                "connections:write scope (Basic Information > App-Level Tokens); or set THREADCREW_SLACK_MODE=http"
            )
        if not bot_token:
            raise StartupError(
                "Slack Socket Mode needs THREADCREW_SLACK_BOT_TOKEN (xoxb-..., OAuth & Permissions after installing)"
            )
    else:
        if not signing_secret:
            raise StartupError(
                "Slack HTTP mode needs THREADCREW_SLACK_SIGNING_SECRET (Basic Information > Signing Secret)"
            )
        if not bot_token and not (settings.slack_client_id and client_secret):
            raise StartupError(
                "Slack HTTP mode needs THREADCREW_SLACK_BOT_TOKEN for one workspace, or "
                "THREADCREW_SLACK_CLIENT_ID and THREADCREW_SLACK_CLIENT_SECRET to install into many"
            )
    channels = frozenset(c.strip() for c in settings.slack_allowed_channels.split(",") if c.strip())
    return SlackConfig(
        mode=settings.slack_mode,
        bot_token=bot_token,
        app_token=app_token,
        signing_secret=signing_secret,
        client_id=settings.slack_client_id,
        client_secret=client_secret,
        api_url=settings.slack_api_url,
        http_path=settings.slack_http_path,
        allowed_channels=channels,
        allow_bots=settings.slack_allow_bots,
    )


def slack_platform(settings: Settings, db: Database) -> SlackPlatform:
    """The Slack platform; without a bot token, workspaces install it through OAuth into ``db``.
    In HTTP mode it keeps Slack's events in ``db``'s inbox before Slack gets its answer."""
    config = slack_config(settings)
    requests = DatabaseRequestInbox(db, "slack")
    if config.bot_token:
        return SlackPlatform(config, requests=requests)
    assert config.client_id is not None
    return SlackPlatform(
        config,
        installation_store=slack_installation_store(db.engine, config.client_id),
        state_store=slack_oauth_state_store(db.engine),
        requests=requests,
    )
