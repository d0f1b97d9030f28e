"""A step's save on a SQLite file, run on the bare sqlite3 connection: the writer's other hot path.

Profiled (issue 16, 300 threads through the bot): a step's save cost ~1 ms of the writer
thread's CPU through SQLAlchemy's execution of its five statements (the conversation's UPDATE
... RETURNING, the messages, the usage log, the state's changes, the inbox), and the writer
takes the interpreter's lock from the event loop while it runs. The same statements go to
sqlite3 itself here, each value through its column type's own bind processor and each returned
value through its result processor, so what is stored and handed back is what SQLAlchemy would
store and hand back.
"""

from __future__ import annotations

import datetime as dt
import functools
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Column
from sqlalchemy.engine import Dialect

from ..records import ConversationRecord, ListChanges, MessageRecord, NewMessage, NewUsage
from ..schema import conversations, state_changes, usage
from ._bare import NEW_FIELDS, insert_bare, stored_record
from .events import check_all_there

__all__ = ["save_step_bare"]

_RETURNED = tuple(c for c in conversations.c if c.name != "state")
_UPDATE = (
    "UPDATE conversations SET state = ?, version = version + 1, updated_at = ?, status = coalesce(?, status), "
    "last_seq = last_seq + ?, prompt_tokens = prompt_tokens + ?, completion_tokens = completion_tokens + ?, "
    f"cost = cost + ? WHERE id = ? AND version = ? RETURNING {', '.join(c.name for c in _RETURNED)}"
)
_USAGE_COLUMNS = tuple(c for c in usage.c if c.name != "id")
_USAGE = (
    f"INSERT INTO usage ({', '.join(c.name for c in _USAGE_COLUMNS)}) VALUES ({', '.join('?' for _ in _USAGE_COLUMNS)})"
)
_FORGET_CHANGES = "DELETE FROM state_changes WHERE conversation_id = ?"
_ADD_CHANGES = "INSERT INTO state_changes (conversation_id, version, changes) VALUES (?, ?, ?)"


def save_step_bare(
    driver: sqlite3.Connection,
    dialect: Dialect,
    params: dict[str, Any],
    messages: Sequence[NewMessage],
    used: Sequence[NewUsage],
    handled: Sequence[int],
    changes: ListChanges | None,
) -> tuple[ConversationRecord, list[MessageRecord]] | None:
    """What ``ConversationStore.save_step`` writes after the waits (``params`` are its statement's,
    with the state); None, and nothing written, when the conversation is not at the version expected."""
    bind = functools.partial(_bind, dialect)
    cid, now = params["cid"], params["now"]
    row = driver.execute(
        _UPDATE,
        (
            bind(conversations.c.state)(params["state"]),
            bind(conversations.c.updated_at)(now),
            params["status"],
            params["reserved"],
            params["prompt_tokens"],
            params["completion_tokens"],
            params["cost"],
            cid,
            params["expected"],
        ),
    ).fetchone()
    if row is None:
        return None
    returned = {c.name: _result(dialect, c)(value) for c, value in zip(_RETURNED, row, strict=True)}
    record = ConversationRecord(**returned, state=params["state"])
    if changes is not None:
        if changes.whole:
            driver.execute(_FORGET_CHANGES, (cid,))
        body = {"items": changes.items, "lists": {key: [keep, added] for key, (keep, added) in changes.lists.items()}}
        driver.execute(_ADD_CHANGES, (cid, record.version, bind(state_changes.c.changes)(body)))
    first = record.last_seq - len(messages) + 1
    rows = [
        {**{name: getattr(m, name) for name in NEW_FIELDS}, "conversation_id": cid, "seq": first + i, "created_at": now}
        for i, m in enumerate(messages)
    ]
    ids = insert_bare(driver, dialect, rows) if rows else {}
    stored = [stored_record(ids[(cid, first + i)], first + i, m, cid, now) for i, m in enumerate(messages)]
    if used:
        driver.executemany(_USAGE, [_usage_row(dialect, cid, u, now) for u in used])
    if handled:
        deleted = driver.execute(f"DELETE FROM inbox WHERE id IN ({', '.join('?' for _ in handled)})", list(handled))
        check_all_there(deleted.rowcount, handled)
    return record, stored


def _usage_row(dialect: Dialect, cid: int, used: NewUsage, now: dt.datetime) -> list[Any]:
    values = {
        **{name: getattr(used, name) for name in ("model", "prompt_tokens", "completion_tokens", "cost", "cached")}
    }
    values.update(conversation_id=cid, created_at=now)
    return [_bind(dialect, c)(values[c.name]) for c in _USAGE_COLUMNS]


@functools.cache
def _bind(dialect: Dialect, column: Column[Any]) -> Callable[[Any], Any]:
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    return processor if processor is not None else _same


@functools.cache
def _result(dialect: Dialect, column: Column[Any]) -> Callable[[Any], Any]:
    processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
    return processor if processor is not None else _same


def _same(value: Any) -> Any:
    return value
