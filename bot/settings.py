"""Deployment settings, from the environment (``THREADCREW_*``), read once at start-up.

Secrets and deployment choices live here; teams (agents, models, tools) live in team files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "default_data_dir"]


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/threadcrew``, else ``~/.local/share/threadcrew``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "threadcrew"


class Settings(BaseSettings):
    """threadcrew's settings.

    Attributes:
        data_dir: where the embedded database, code work dirs and files live (``THREADCREW_DATA_DIR``).
        database_url: ``THREADCREW_DATABASE_URL``; SQLite in ``data_dir`` when unset.
        team: the team file (``THREADCREW_TEAM``); the built-in demo team when unset.
        step_timeout: seconds one step of a run may take (a model call, a code run) before the
            run stops with a note (``THREADCREW_STEP_TIMEOUT``).
        drain_seconds: on shutdown, how long running steps may take to finish.
        platforms: the platforms one ``threadcrew run`` serves (``THREADCREW_PLATFORMS``, comma-separated).
        http_host, http_port: the bot's one web server (``THREADCREW_HTTP_HOST``/``_PORT``; the
            older ``THREADCREW_SLACK_HTTP_HOST``/``_PORT`` still work). It listens on ``127.0.0.1``
            unless told otherwise, or on every interface for Slack's HTTP mode.
        health: serve ``/healthz``, ``/readyz`` and ``/metrics`` (``THREADCREW_HEALTH``), which starts
            the web server.
        log_level: the lowest level logged (``THREADCREW_LOG_LEVEL``: DEBUG, INFO, WARNING, ERROR).
        log_format: ``text`` (readable, the default) or ``json`` (one object a line) (``THREADCREW_LOG_FORMAT``).
        role: what ``threadcrew run`` does (``THREADCREW_ROLE``): ``intake`` takes the platforms'
            events into the inbox and queues their threads' work, ``worker`` runs that work (steps,
            posts), ``all`` (the default) both. Roles other than ``all`` need PostgreSQL.
        queue_concurrency: on PostgreSQL, how many threads one worker process works on at once
            (``THREADCREW_QUEUE_CONCURRENCY``).
        max_steps: how many conversation steps this process runs at once (``THREADCREW_MAX_STEPS``;
            unset: no limit). Past it, steps wait their turn, a thread's first step since people
            spoke (someone waits for its post) before the steps of runs going on.
        queue_stall_seconds: on PostgreSQL, a worker process silent this long (no heartbeat) is
            taken for dead and its threads' work runs elsewhere (``THREADCREW_QUEUE_STALL_SECONDS``).
        retry_seconds, retry_give_up_after: a thread whose work failed (a refused post) is tried
            again after ``retry_seconds``, doubling with each failure in a row up to 5 minutes; after
            ``retry_give_up_after`` failures in a row its run stops with a note
            (``THREADCREW_RETRY_SECONDS``, ``THREADCREW_RETRY_GIVE_UP_AFTER``).
        scheduler: run scheduled runs, wait timeouts and housekeeping in this process
            (``THREADCREW_SCHEDULER``; on by default, any number of processes may run it).
        schedule_misfire_grace: seconds a missed fire may still run late (``THREADCREW_SCHEDULE_MISFIRE_GRACE``).
        schedule_sync_seconds, timeouts_check_seconds, housekeeping_seconds: how often the
            scheduler re-reads the schedules, checks the waits' deadlines, and cleans up.
        runtime_logging: record what the teams do (model calls, agents, their events, tool calls) in
            the database, as ``agents.runtime_logging`` does (``THREADCREW_RUNTIME_LOGGING``; off by default).
        event_retention_days, cache_retention_days, work_retention_days: how long processed-event
            keys, cached model responses and finished conversations' work dirs are kept.
        slack_*: the Slack app (``THREADCREW_SLACK_*``; see the README's Slack section).
        discord_*: the Discord bot (``THREADCREW_DISCORD_*``; see the README's Discord section).
        console*: the web console on the web server (``THREADCREW_CONSOLE*``; see the README's
            "Web console" section): ``console`` mounts it, ``console_token`` is what operators
            sign in with, ``console_secure_cookie`` marks its cookie ``Secure`` (behind https);
            ``console_oidc_*`` and ``console_slack_*`` add sign-in with OpenID Connect and with
            Slack, each with an allow-list; ``console_url`` is the address their redirects come
            back to (default: the address the browser used).
    """

    # An empty variable counts as unset (a .env line left blank), not as an empty value.
    model_config = SettingsConfigDict(
        env_prefix="THREADCREW_", extra="ignore", populate_by_name=True, env_ignore_empty=True
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    team: Path | None = None
    step_timeout: float = Field(default=600.0, gt=0)
    drain_seconds: float = Field(default=30.0, ge=0)
    platforms: str = ""
    http_host: str | None = Field(
        default=None, validation_alias=AliasChoices("threadcrew_http_host", "threadcrew_slack_http_host", "http_host")
    )
    http_port: int = Field(
        default=3000,
        ge=0,
        le=65535,
        validation_alias=AliasChoices("threadcrew_http_port", "threadcrew_slack_http_port", "http_port"),
    )
    health: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "WARNING"
    log_format: Literal["text", "json"] = "text"
    role: Literal["intake", "worker", "all"] = "all"
    queue_concurrency: int = Field(default=32, ge=1)
    max_steps: int | None = Field(default=None, ge=1)
    queue_stall_seconds: float = Field(default=30.0, gt=0)
    retry_seconds: float = Field(default=1.0, gt=0)
    retry_give_up_after: int = Field(default=12, ge=1)
    scheduler: bool = True
    schedule_misfire_grace: float = Field(default=3600.0, ge=0)
    schedule_sync_seconds: float = Field(default=30.0, gt=0)
    timeouts_check_seconds: float = Field(default=30.0, gt=0)
    housekeeping_seconds: float = Field(default=3600.0, gt=0)
    runtime_logging: bool = False
    event_retention_days: float = Field(default=7.0, gt=0)
    cache_retention_days: float = Field(default=30.0, gt=0)
    work_retention_days: float = Field(default=7.0, gt=0)

    slack_mode: Literal["socket", "http"] = "socket"
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_http_path: str = "/slack/events"
    slack_allowed_channels: str = ""  # comma-separated channel ids; empty: every channel the bot is in
    slack_allow_bots: bool = False

    discord_token: SecretStr | None = None
    discord_api_url: str = "https://discord.com/api/v10"
    discord_allowed_guilds: str = ""  # comma-separated guild ids; empty: every guild the bot is in
    discord_allowed_channels: str = ""  # comma-separated channel ids (a thread counts as its channel)
    discord_allow_bots: bool = False
    discord_shard_ids: str = ""  # comma-separated shard ids this process runs; empty: one connection
    discord_shard_count: int | None = Field(default=None, ge=1)
    # The web console (bot/webconsole): watch and steer the conversations in a browser.
    console: bool = False
    console_token: SecretStr | None = None
    console_secure_cookie: bool = False
    console_session_hours: float = Field(default=12.0, gt=0)
    console_url: str | None = None  # the console's address as browsers reach it (sign-in redirects)
    console_oidc_issuer: str | None = None
    console_oidc_client_id: str | None = None
    console_oidc_client_secret: SecretStr | None = None
    console_oidc_label: str = "OpenID Connect"
    console_oidc_allowed_emails: str = ""  # comma-separated
    console_oidc_allowed_domains: str = ""  # comma-separated
    console_slack_sign_in: bool = False
    console_slack_allowed_teams: str = ""  # comma-separated workspace ids
    console_slack_issuer: str = "https://slack.com"  # Slack's OpenID issuer (a test points it at a fake)

    @field_validator("log_level", "log_format", "role", mode="before")
    @classmethod
    def _any_case(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        return value.upper() if info.field_name == "log_level" else value.lower()

    @property
    def web_host(self) -> str:
        """Where the web server listens: ``http_host``; else every interface for Slack's HTTP mode
        (Slack must reach it, behind your TLS proxy), else this machine only."""
        if self.http_host:
            return self.http_host
        return "0.0.0.0" if "slack" in self.platform_names() and self.slack_mode == "http" else "127.0.0.1"

    def platform_names(self) -> list[str]:
        """``platforms`` as a list (``THREADCREW_PLATFORMS=slack,discord``)."""
        return [name.strip() for name in self.platforms.split(",") if name.strip()]

    @property
    def effective_database_url(self) -> str:
        """The database to use: ``database_url``, or ``threadcrew.db`` in ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'threadcrew.db').expanduser()}"
