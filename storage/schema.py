"""The tables. Migrations (``storage/migrations``) create them; this module describes them.

Times are timezone-aware UTC. JSON columns hold what the other layers own: the engine's state,
tool calls, attachments, cached responses. Slack's installation tables have slack-sdk's shapes,
so that its installation store (in adapters/slack) works on this database unchanged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = [
    "conversations",
    "inbox",
    "llm_cache",
    "messages",
    "metadata",
    "ours",
    "platform_state",
    "processed_events",
    "runtime_log",
    "schedules",
    "state_changes",
    "usage",
    "waits",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

FOREIGN_PREFIX = "procrastinate_"  # the job queue's own schema on PostgreSQL (migration 0008), not declared here


def ours(name: str | None, type_: str, parent_names: object) -> bool:
    """Whether a database object is declared here (Alembic's ``include_name``): not the job queue's."""
    return not (type_ == "table" and name is not None and name.startswith(FOREIGN_PREFIX))


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out; stored as naive UTC, the same on every database
    (SQLite would otherwise drop the zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: storage takes timezone-aware datetimes")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        return value.replace(tzinfo=dt.UTC) if value is not None else None


# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
Id = BigInteger().with_variant(Integer(), "sqlite")
Time = UTCDateTime()

conversations = Table(
    "conversations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("workspace_id", String(128), nullable=False),
    Column("channel_id", String(128), nullable=False),
    Column("thread_id", String(128), nullable=False),
    Column("team", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("state", JSON, nullable=True),
    Column("version", Integer, nullable=False, server_default="0"),
    Column("last_seq", Integer, nullable=False, server_default="0"),
    Column("prompt_tokens", BigInteger, nullable=False, server_default="0"),
    Column("completion_tokens", BigInteger, nullable=False, server_default="0"),
    Column("cost", Float, nullable=False, server_default="0"),
    Column("created_at", Time, nullable=False),
    Column("updated_at", Time, nullable=False),
    Column("failures", Integer, nullable=False, server_default="0"),  # its work failed this many times in a row
    UniqueConstraint("platform", "workspace_id", "channel_id", "thread_id"),
    Index(None, "status"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", Id, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("role", String(16), nullable=False),
    Column("name", String(128), nullable=True),
    Column("author_kind", String(16), nullable=False),
    Column("author_id", String(128), nullable=True),
    Column("content", Text, nullable=True),
    Column("tool_calls", JSON, nullable=True),
    Column("tool_responses", JSON, nullable=True),
    Column("attachments", JSON, nullable=True),
    Column("created_at", Time, nullable=False),
    Column("platform_message_id", String(128), nullable=True),
    Column("posted_at", Time, nullable=True),
    # The model calls that produced the message (tokens, cost), and how a model chose its speaker.
    Column("model_usage", JSON, nullable=True),
    Column("speaker_selection", JSON, nullable=True),
    UniqueConstraint("conversation_id", "seq"),
    # The outbox: only messages not yet posted are indexed, so the scan stays small forever.
    Index(
        "ix_messages_unposted",
        "id",
        postgresql_where=text("posted_at IS NULL"),
        sqlite_where=text("posted_at IS NULL"),
    ),
)

# A conversation's state keeps its long lists (the agents' histories, the transcript) out of
# ``conversations.state``: each save adds a row with what changed in them (see
# storage.stores.state_changes); a state that says it holds every list drops the rows before it.
state_changes = Table(
    "state_changes",
    metadata,
    Column("conversation_id", Id, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("changes", JSON, nullable=False),
)

waits = Table(
    "waits",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", Id, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("agent", String(128), nullable=False),
    Column("prompt", Text, nullable=False),
    Column("choices", JSON, nullable=True),
    Column("allowed_answerers", JSON, nullable=True),
    Column("expires_at", Time, nullable=True),
    Column("created_at", Time, nullable=False),
    Column("answer", Text, nullable=True),
    Column("answered_by", String(128), nullable=True),
    Column("answered_at", Time, nullable=True),
    Column("reminded_at", Time, nullable=True),  # its one reminder went (kept as long as the wait)
    Index(None, "conversation_id"),
    Index(
        "ix_waits_open",
        "expires_at",
        postgresql_where=text("answered_at IS NULL"),
        sqlite_where=text("answered_at IS NULL"),
    ),
)

processed_events = Table(
    "processed_events",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("event_key", String(255), primary_key=True),
    Column("created_at", Time, nullable=False),
    Index(None, "created_at"),
)

# Events accepted but not handled yet: a restarted bot handles them (nothing accepted is lost).
inbox = Table(
    "inbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("event_key", String(255), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", Time, nullable=False),
    Column("thread_key", String(255), nullable=True),  # whose event: a worker reads its thread's alone
    Index(None, "platform"),
    Index(None, "thread_key"),
)

schedules = Table(
    "schedules",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("team", String(128), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("workspace_id", String(128), nullable=False),
    Column("channel_id", String(128), nullable=False),
    Column("cron", String(128), nullable=True),  # a crontab expression, or None with every_seconds
    Column("every_seconds", Integer, nullable=True),
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    Column("message", Text, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    # "file": from a team file (replaced when the file changes); "chat" or "cli": added by people.
    Column("source", String(16), nullable=False, server_default="chat"),
    Column("created_at", Time, nullable=False),
    # The fire time it last ran for: setting it is how one process claims a fire (see ScheduleStore.claim_fire).
    Column("last_run_at", Time, nullable=True),
)

# What a platform adapter keeps between runs (a Discord channel's webhook, say), by its own keys.
platform_state = Table(
    "platform_state",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", Time, nullable=False),
)

llm_cache = Table(
    "llm_cache",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("created_at", Time, nullable=False),
)

usage = Table(
    "usage",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", Id, ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True),
    Column("model", String(128), nullable=False),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("cost", Float, nullable=False),
    Column("cached", Boolean, nullable=False),
    Column("created_at", Time, nullable=False),
    Index(None, "conversation_id"),
    Index(None, "created_at"),
)

# What agents.runtime_logging records while a team runs in the bot (model calls, agents built,
# their events, tool calls): ``kind`` is the record's AutoGen table name, ``record`` its fields.
runtime_log = Table(
    "runtime_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("session_id", String(64), nullable=False),
    Column("conversation_id", Id, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("source_name", String(255), nullable=True),
    Column("name", String(255), nullable=True),
    Column("record", JSON, nullable=False),
    Column("created_at", Time, nullable=False),
    Index(None, "conversation_id"),
)

# Slack's installations (multi-workspace OAuth): slack-sdk's own tables, which its stores (in
# adapters/slack) read and write. Declared here as plain tables so that the migrations can be
# checked against them; storage imports nothing of Slack's.


def _slack_token_columns() -> list[Column[Any]]:
    """The columns slack-sdk's bot and installation tables share."""
    return [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("client_id", String(32), nullable=False),
        Column("app_id", String(32), nullable=False),
        Column("enterprise_id", String(32)),
        Column("enterprise_name", String(200)),
        Column("team_id", String(32)),
        Column("team_name", String(200)),
        Column("bot_token", String(200)),
        Column("bot_id", String(32)),
        Column("bot_user_id", String(32)),
        Column("bot_scopes", String(1000)),
        Column("bot_refresh_token", String(200)),
        Column("bot_token_expires_at", DateTime),
        Column("is_enterprise_install", Boolean, nullable=False, default=False),
        Column("installed_at", DateTime, nullable=False, default=func.now()),
    ]


slack_installations = Table(
    "slack_installations",
    metadata,
    *_slack_token_columns(),
    Column("enterprise_url", String(200)),
    Column("user_id", String(32), nullable=False),
    Column("user_token", String(200)),
    Column("user_scopes", String(1000)),
    Column("user_refresh_token", String(200)),
    Column("user_token_expires_at", DateTime),
    Column("incoming_webhook_url", String(200)),
    Column("incoming_webhook_channel", String(200)),
    Column("incoming_webhook_channel_id", String(200)),
    Column("incoming_webhook_configuration_url", String(200)),
    Column("token_type", String(32)),
    Index("slack_installations_idx", "client_id", "enterprise_id", "team_id", "user_id", "installed_at"),
)
slack_bots = Table(
    "slack_bots",
    metadata,
    *_slack_token_columns(),
    Index("slack_bots_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
)
slack_oauth_states = Table(
    "slack_oauth_states",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(200), nullable=False),
    Column("expire_at", DateTime, nullable=False),
)
