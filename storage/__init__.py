"""Durable conversations on SQLAlchemy 2: SQLite by default, PostgreSQL in production.

Owns: the tables and their migrations, and the stores that read and write them
(conversations, messages with an outbox, waits, processed events, schedules, the
model-response cache, usage, what platform adapters keep, the runtime log of model calls and
tool calls). Imports none of agents/, adapters/ or bot/. Stores hand out plain records, never
ORM rows; what other layers own (the engine's state, transcripts, tool calls) is kept as opaque
JSON.

    async with Database("sqlite:///threadcrew.db") as db:
        await upgrade(db)                  # or check_schema(db) at start-up
        conversation = await db.stores.conversations.get_or_create("slack", "T1", "C1", "123.4", team="dev")
        await db.stores.messages.append(conversation.id, NewMessage(role="user", content="hi"))
"""

from .database import SUPPORTED_SCHEMES, Clock, Database, database_url
from .errors import (
    ConflictError,
    DatabaseBehindError,
    HandledElsewhereError,
    NotFoundError,
    StorageError,
    UnsupportedDatabaseError,
)
from .migrate import check_schema, current_revision, head_revision, upgrade
from .records import (
    ConversationRecord,
    ListChanges,
    MessageRecord,
    ModelUsage,
    NewMessage,
    NewRuntimeLog,
    NewSchedule,
    NewUsage,
    NewWait,
    RuntimeLogRecord,
    ScheduleRecord,
    WaitAnswer,
    WaitRecord,
)
from .stores import ACTIVE_STATUSES, Stores
from .stores.state_changes import list_ref

__all__ = [
    "ACTIVE_STATUSES",
    "SUPPORTED_SCHEMES",
    "Clock",
    "ConflictError",
    "ConversationRecord",
    "Database",
    "DatabaseBehindError",
    "HandledElsewhereError",
    "ListChanges",
    "MessageRecord",
    "ModelUsage",
    "NewMessage",
    "NewRuntimeLog",
    "NewSchedule",
    "NewUsage",
    "NewWait",
    "NotFoundError",
    "RuntimeLogRecord",
    "ScheduleRecord",
    "StorageError",
    "Stores",
    "UnsupportedDatabaseError",
    "WaitAnswer",
    "WaitRecord",
    "check_schema",
    "current_revision",
    "database_url",
    "head_revision",
    "list_ref",
    "upgrade",
]
