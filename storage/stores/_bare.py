"""A lone append (and an event kept in the inbox) on a SQLite file, run on the bare sqlite3
connection: the writer's hot paths.

Profiled (issue 16): one append alone in its transaction cost ~290 us of writer CPU through
SQLAlchemy's execution of two statements, against ~40 us for the same statements on the bare
driver. The statements are written from the table's columns, and each value goes through its
column type's own bind processor, so what is stored is what SQLAlchemy would store.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect

from ..errors import NotFoundError
from ..records import MessageRecord, NewMessage
from ..schema import conversations, inbox, messages, processed_events

__all__ = ["NEW_FIELDS", "accept_bare", "append_bare", "bare_sqlite", "insert_bare", "reserve_bare", "stored_record"]

_COLUMNS = tuple(column.name for column in messages.c if column.name != "id")
_INSERT = f"INSERT INTO messages ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) RETURNING id"
NEW_FIELDS = tuple(field.name for field in fields(NewMessage))
_RESERVE = "UPDATE conversations SET last_seq = last_seq + ?, updated_at = ? WHERE id = ? RETURNING last_seq"
_RESERVE_MANY = "UPDATE conversations SET last_seq = last_seq + ?, updated_at = ? WHERE id = ?"
_INSERT_ROWS = 500  # a multi-row INSERT's rows: 15 variables each, far under SQLite's 32,766
_CLAIM = (
    "INSERT INTO processed_events (platform, event_key, created_at) VALUES (?, ?, ?) "
    "ON CONFLICT DO NOTHING RETURNING event_key"
)
_INBOX_COLUMNS = tuple(column.name for column in inbox.c if column.name != "id")
_KEEP = (
    f"INSERT INTO inbox ({', '.join(_INBOX_COLUMNS)}) VALUES ({', '.join('?' for _ in _INBOX_COLUMNS)}) RETURNING id"
)


def bare_sqlite(conn: Connection) -> sqlite3.Connection | None:
    """The plain sqlite3 connection under ``conn``, if it is one (not aiosqlite, not PostgreSQL)."""
    driver = conn.connection.driver_connection
    return driver if isinstance(driver, sqlite3.Connection) else None


def reserve_bare(
    driver: sqlite3.Connection, dialect: Dialect, counts: dict[int, int], latest: dict[int, dt.datetime]
) -> dict[int, int]:
    """Bump the counters by ``counts`` (in id order); the conversations' last numbers, of those that exist."""
    stamp = _processors(dialect)["updated_at"]
    driver.executemany(_RESERVE_MANY, [(counts[cid], stamp(latest[cid]), cid) for cid in sorted(counts)])
    marks = ", ".join("?" for _ in counts)
    query = f"SELECT id, last_seq FROM conversations WHERE id IN ({marks})"
    return dict(driver.execute(query, list(counts)).fetchall())


def insert_bare(driver: sqlite3.Connection, dialect: Dialect, rows: list[dict[str, Any]]) -> dict[tuple[int, int], int]:
    """Insert ``rows`` (column values) in multi-row INSERTs; their ids by (conversation, number)."""
    process = _processors(dialect)
    ids: dict[tuple[int, int], int] = {}
    one = f"({', '.join('?' for _ in _COLUMNS)})"
    for at in range(0, len(rows), _INSERT_ROWS):
        chunk = rows[at : at + _INSERT_ROWS]
        statement = (
            f"INSERT INTO messages ({', '.join(_COLUMNS)}) VALUES {', '.join(one for _ in chunk)} "
            "RETURNING id, conversation_id, seq"
        )
        values = [process[name](row.get(name)) for row in chunk for name in _COLUMNS]
        ids.update({(cid, seq): id_ for id_, cid, seq in driver.execute(statement, values).fetchall()})
    return ids


def append_bare(
    conn: Connection, conversation_id: int, new: Sequence[NewMessage], now: dt.datetime
) -> list[MessageRecord] | None:
    """Append as ``append_in`` does, or None when ``conn`` is not on a plain sqlite3 connection.

    Raises:
        NotFoundError: no such conversation (nothing is written).
    """
    driver = bare_sqlite(conn)
    if driver is None:
        return None
    process = _processors(conn.dialect)
    cursor = driver.cursor()
    try:
        row = cursor.execute(_RESERVE, (len(new), process["updated_at"](now), conversation_id)).fetchone()
        if row is None:
            raise NotFoundError(f"there is no conversation {conversation_id}")
        records: list[MessageRecord] = []
        for seq, message in enumerate(new, row[0] - len(new) + 1):
            values: dict[str, Any] = {
                **{name: getattr(message, name) for name in NEW_FIELDS},
                "conversation_id": conversation_id,
                "seq": seq,
                "created_at": now,
            }
            (message_id,) = cursor.execute(_INSERT, [process[name](values.get(name)) for name in _COLUMNS]).fetchone()
            records.append(stored_record(message_id, seq, message, conversation_id, now))
        return records
    finally:
        cursor.close()


def stored_record(id_: int, seq: int, m: NewMessage, conversation_id: int, now: dt.datetime) -> MessageRecord:
    """The record of a stored message, as reading it back would give it (UTC times, JSON values)."""
    return MessageRecord(
        id=id_,
        conversation_id=conversation_id,
        seq=seq,
        role=m.role,
        name=m.name,
        author_kind=m.author_kind,
        author_id=m.author_id,
        content=m.content,
        tool_calls=_json(m.tool_calls),
        tool_responses=_json(m.tool_responses),
        attachments=_json(m.attachments),
        created_at=now.astimezone(dt.UTC),
        platform_message_id=m.platform_message_id,
        posted_at=m.posted_at.astimezone(dt.UTC) if m.posted_at is not None else None,
        model_usage=_json(m.model_usage),
        speaker_selection=_json(m.speaker_selection),
    )


def accept_bare(driver: sqlite3.Connection, dialect: Dialect, keys: Sequence[str], row: dict[str, Any]) -> int | None:
    """``EventStore.accept`` on the bare driver (a burst of a thousand events is a thousand of
    these in the writer thread, beside the event loop): claim every one of ``keys``, then keep
    the inbox ``row``; its id, or None when a key was claimed before."""
    at = _bind(processed_events.c.created_at, dialect)(row["created_at"])
    claims = [driver.execute(_CLAIM, (row["platform"], key, at)).fetchone() for key in keys]  # claim them all
    if not all(claims):
        return None
    (inbox_id,) = driver.execute(
        _KEEP, [_bind(inbox.c[name], dialect)(row[name]) for name in _INBOX_COLUMNS]
    ).fetchone()
    return int(inbox_id)


@functools.cache
def _bind(column: Any, dialect: Dialect) -> Callable[[Any], Any]:
    """``column``'s bind processor on ``dialect`` (the identity where it has none)."""
    return column.type.dialect_impl(dialect).bind_processor(dialect) or _same


def _json(value: Any) -> Any:
    return None if value is None else json.loads(json.dumps(value))  # tuples become lists, as in the column


@functools.cache
def _processors(dialect: Dialect) -> dict[str, Callable[[Any], Any]]:
    """Each column's bind processor on ``dialect`` (the identity where it has none)."""
    return {column.name: _bind(column, dialect) for column in (*messages.c, conversations.c.updated_at)}


def _same(value: Any) -> Any:
    return value
