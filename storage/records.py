"""What the stores hand out: plain frozen values, never ORM rows."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

__all__ = [
    "ConversationRecord",
    "ListChanges",
    "MessageRecord",
    "ModelUsage",
    "NewMessage",
    "NewRuntimeLog",
    "NewSchedule",
    "NewWait",
    "RuntimeLogRecord",
    "ScheduleRecord",
    "WaitAnswer",
    "WaitRecord",
    "record_from_row",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    """One platform thread's conversation."""

    id: int
    platform: str
    workspace_id: str
    channel_id: str
    thread_id: str
    team: str
    status: str
    state: Any
    version: int
    last_seq: int
    prompt_tokens: int
    completion_tokens: int
    cost: float
    created_at: dt.datetime
    updated_at: dt.datetime
    failures: int = 0
    """How many times in a row its work failed (a refused post, say): what every worker backs off by."""


@dataclass(frozen=True, slots=True)
class ListChanges:
    """What a save changed in the long lists of a conversation's state (see ``save_step``).

    The state holds a reference, ``list_ref(key)``, where a list goes; the store keeps the lists
    apart and puts them back in place when it hands the state out. ``lists`` maps a key to
    ``(keep, added)``: the list becomes its first ``keep`` entries followed by the ``items`` at
    the indexes ``added`` (an item shared by several lists is given once). ``whole``: these
    changes hold every list of the state in full, so the changes before them are let go.
    """

    items: list[Any]
    lists: dict[str, tuple[int, list[int]]]
    whole: bool = False


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to append; the store gives it its sequence number and time.

    ``author_kind`` is "agent", "human" or "system"; ``author_id`` is the platform user or the
    agent name. ``tool_calls``, ``tool_responses`` and ``attachments`` are JSON as their owners
    write them. A message that is in the thread already (a person wrote it) comes with its
    ``platform_message_id`` and ``posted_at``, and so stays out of the outbox. ``model_usage``
    (tokens and cost of the model calls that produced it) and ``speaker_selection`` (the prompt
    and answer of a model that chose its speaker) are JSON as the bot writes them.
    """

    role: str
    content: str | None = None
    name: str | None = None
    author_kind: str = "agent"
    author_id: str | None = None
    tool_calls: Any = None
    tool_responses: Any = None
    attachments: Any = None
    platform_message_id: str | None = None
    posted_at: dt.datetime | None = None
    model_usage: Any = None
    speaker_selection: Any = None


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """A stored message; ``platform_message_id`` and ``posted_at`` are set once it is posted."""

    id: int
    conversation_id: int
    seq: int
    role: str
    name: str | None
    author_kind: str
    author_id: str | None
    content: str | None
    tool_calls: Any
    tool_responses: Any
    attachments: Any
    created_at: dt.datetime
    platform_message_id: str | None
    posted_at: dt.datetime | None
    model_usage: Any = None
    speaker_selection: Any = None


@dataclass(frozen=True, slots=True)
class WaitRecord:
    """A question the conversation waits on: human input or an approval."""

    id: int
    conversation_id: int
    kind: str
    agent: str
    prompt: str
    choices: list[str] | None
    allowed_answerers: list[str] | None
    expires_at: dt.datetime | None
    created_at: dt.datetime
    answer: str | None
    answered_by: str | None
    answered_at: dt.datetime | None
    reminded_at: dt.datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.answered_at is None


@dataclass(frozen=True, slots=True)
class NewWait:
    """A wait to open with a step's state (see ``save_step``): what the conversation asks, of whom.

    ``kind`` is the engine's (a question, an approval, a choice of speaker); ``choices`` the
    answers offered; ``allowed_answerers`` None means anyone in the thread; ``expires_at`` the
    deadline, if any.
    """

    kind: str
    agent: str
    prompt: str
    choices: Sequence[str] | None = None
    allowed_answerers: Sequence[str] | None = None
    expires_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class WaitAnswer:
    """How a wait was answered (see ``save_step``): with what, by whom."""

    wait_id: int
    answer: str
    answered_by: str


@dataclass(frozen=True, slots=True)
class NewSchedule:
    """A schedule to add: when (``cron`` or ``every_seconds``, in ``timezone``), where, and with what message."""

    name: str
    team: str
    platform: str
    workspace_id: str
    channel_id: str
    message: str
    cron: str | None = None
    every_seconds: int | None = None
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class ScheduleRecord:
    """A scheduled team run: ``cron`` (or ``every_seconds``) in ``timezone`` says when, ``message`` is
    what starts it; ``source`` is ``file`` (a team file's), ``chat`` or ``cli``; ``last_run_at`` the
    fire time it last ran for."""

    id: int
    name: str
    team: str
    platform: str
    workspace_id: str
    channel_id: str
    cron: str | None
    every_seconds: int | None
    timezone: str
    message: str
    enabled: bool
    source: str
    created_at: dt.datetime
    last_run_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class NewUsage:
    """One model's tokens and cost to add to the usage log (see ``save_step``)."""

    model: str
    prompt_tokens: int
    completion_tokens: int
    cost: float
    cached: bool = False


@dataclass(frozen=True, slots=True)
class ModelUsage:
    """Tokens and cost of one model's calls."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    calls: int = 0
    cached_calls: int = field(default=0)


@dataclass(frozen=True, slots=True)
class NewRuntimeLog:
    """One record of the runtime log (``agents.runtime_logging``): ``kind`` is AutoGen's table name
    (``chat_completions``, ``agents``, ``events``, ``function_calls``, ``oai_wrappers``,
    ``oai_clients``), ``source_name`` the agent, ``name`` the event or function, ``record`` all its
    fields; ``conversation_id`` None when no conversation's work logged it."""

    session_id: str
    kind: str
    record: Any
    created_at: dt.datetime
    conversation_id: int | None = None
    source_name: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class RuntimeLogRecord:
    """A stored record of the runtime log (see :class:`NewRuntimeLog`)."""

    id: int
    session_id: str
    conversation_id: int | None
    kind: str
    source_name: str | None
    name: str | None
    record: Any
    created_at: dt.datetime


def record_from_row(cls: type[T], row: Any) -> T:
    """Build a record from a result row with the same column names."""
    mapping = row._mapping
    return cls(**{name: mapping[name] for name in _field_names(cls)})  # type: ignore[arg-type]


@functools.cache
def _field_names(cls: type[Any]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))  # once a class: fields() is slow on a hot path
