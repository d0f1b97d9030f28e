"""Messages: appended with the next sequence number of their conversation, posted through an outbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from ..errors import NotFoundError
from ..records import MessageRecord, NewMessage, record_from_row
from ..schema import conversations, messages
from ._bare import NEW_FIELDS, append_bare, bare_sqlite, insert_bare, reserve_bare, stored_record
from ._base import Store

__all__ = ["MessageStore", "append_in", "append_merged", "insert_numbered"]


_INSERT_RETURNING = insert(messages).returning(*messages.c, sort_by_parameter_order=True)
_INSERT_MANY = insert(messages).returning(messages.c.id, messages.c.conversation_id, messages.c.seq)
_RESERVE = (
    update(conversations)
    .where(conversations.c.id == bindparam("cid"))
    .values(
        last_seq=conversations.c.last_seq + bindparam("count"),
        updated_at=bindparam("now", type_=conversations.c.updated_at.type),
    )
)
_RESERVE_RETURNING = _RESERVE.returning(conversations.c.last_seq)
_LAST_SEQ = select(conversations.c.id, conversations.c.last_seq).where(
    conversations.c.id.in_(bindparam("cids", expanding=True))
)

Append = tuple[int, Sequence[NewMessage], dt.datetime]
"""What to append: to which conversation, which messages, when."""


def append_in(
    conn: Connection, conversation_id: int, new: Sequence[NewMessage], now: dt.datetime
) -> list[MessageRecord]:
    """Append inside the caller's transaction.

    The conversation row's counter is bumped first: concurrent appenders (tasks or processes)
    queue on that row, so no number is given twice or skipped.
    """
    if not new:
        return []
    last = conn.execute(
        _RESERVE_RETURNING, {"cid": conversation_id, "count": len(new), "now": now}
    ).scalar_one_or_none()
    if last is None:
        raise NotFoundError(f"there is no conversation {conversation_id}")
    return insert_numbered(conn, conversation_id, last - len(new) + 1, new, now)


def insert_numbered(
    conn: Connection, conversation_id: int, first_seq: int, new: Sequence[NewMessage], now: dt.datetime
) -> list[MessageRecord]:
    """Insert messages numbered from ``first_seq``; the caller has reserved the numbers."""
    if not new:
        return []
    numbered = _numbered(conversation_id, first_seq, new, now)
    # One row is one plain execution; more go as one multi-row INSERT (SQLAlchemy's insertmanyvalues).
    rows = conn.execute(_INSERT_RETURNING, numbered[0] if len(numbered) == 1 else numbered).all()
    return [record_from_row(MessageRecord, row) for row in rows]


def append_merged(conn: Connection, appends: Sequence[Append]) -> list[tuple[bool, Any]]:
    """Many appends (of a group commit, see ``Database.write_merged``) in three statements.

    The counters of every conversation are bumped by one UPDATE run with many parameter sets,
    in the order of their ids (so that two processes doing this lock rows in the same order and
    never deadlock), read back (the rows are locked by now), and every message is inserted by
    one INSERT. Appends to a conversation that does not exist get a NotFoundError, and nothing.
    """
    if len(appends) == 1:
        [(conversation_id, new, now)] = appends
        try:
            records = append_bare(conn, conversation_id, new, now)
            return [(True, records if records is not None else append_in(conn, conversation_id, new, now))]
        except NotFoundError as exc:
            return [(False, exc)]
    counts: dict[int, int] = {}
    latest: dict[int, dt.datetime] = {}
    for conversation_id, new, at in appends:
        counts[conversation_id] = counts.get(conversation_id, 0) + len(new)
        latest[conversation_id] = max(at, latest.get(conversation_id, at))
    driver = bare_sqlite(conn)  # on a SQLite file, the statements go to sqlite3 itself (see _bare)
    if driver is not None:
        last = reserve_bare(driver, conn.dialect, counts, latest)
    else:
        conn.execute(_RESERVE, [{"cid": cid, "count": counts[cid], "now": latest[cid]} for cid in sorted(counts)])
        last = dict(conn.execute(_LAST_SEQ, {"cids": list(counts)}).tuples().all())
    first_seq = {cid: last[cid] - counts[cid] + 1 for cid in counts if cid in last}
    firsts: list[int | None] = []  # each append's first number, in queue order
    rows: list[dict[str, Any]] = []
    for conversation_id, new, at in appends:
        first = first_seq.get(conversation_id)
        firsts.append(first)
        if first is not None:
            rows += _numbered(conversation_id, first, new, at)
            first_seq[conversation_id] = first + len(new)
    # Only the ids come back, in any order (so that SQLite too inserts every row in one
    # statement), told apart by conversation and number; the rest of a record is what was stored.
    ids: dict[tuple[int, int], int] = {}
    if driver is not None and rows:
        ids = insert_bare(driver, conn.dialect, rows)
    elif rows:
        ids = {(cid, seq): id_ for id_, cid, seq in conn.execute(_INSERT_MANY, rows).tuples()}
    outcomes: list[tuple[bool, Any]] = []
    for (conversation_id, new, at), first in zip(appends, firsts, strict=True):
        if first is not None:
            seqs = range(first, first + len(new))
            outcomes.append(
                (
                    True,
                    [
                        stored_record(ids[conversation_id, seq], seq, m, conversation_id, at)
                        for seq, m in zip(seqs, new, strict=True)
                    ],
                )
            )
        else:
            outcomes.append((False, NotFoundError(f"there is no conversation {conversation_id}")))
    return outcomes


def _numbered(
    conversation_id: int, first_seq: int, new: Sequence[NewMessage], now: dt.datetime
) -> list[dict[str, Any]]:
    # Field by field, not dataclasses.asdict: that deep-copies the JSON values, for nothing.
    return [
        {
            **{name: getattr(m, name) for name in NEW_FIELDS},
            "conversation_id": conversation_id,
            "seq": first_seq + i,
            "created_at": now,
        }
        for i, m in enumerate(new)
    ]


class MessageStore(Store):
    async def append(self, conversation_id: int, message: NewMessage) -> MessageRecord:
        """Store one message with the conversation's next sequence number."""
        [record] = await self.append_many(conversation_id, [message])
        return record

    async def append_many(self, conversation_id: int, new: Sequence[NewMessage]) -> list[MessageRecord]:
        """Store messages with consecutive sequence numbers, in one transaction.

        Raises:
            NotFoundError: no such conversation.
        """
        if not new:
            return []
        appended: list[MessageRecord] = await self.db.write_merged(append_merged, (conversation_id, new, self.now()))
        self.db.changes.changed(conversation_id)
        return appended

    async def get(self, message_id: int) -> MessageRecord:
        """Raises NotFoundError."""
        async with self.db.connect() as conn:
            row = (await conn.execute(select(messages).where(messages.c.id == message_id))).first()
        if row is None:
            raise NotFoundError(f"there is no message {message_id}")
        return record_from_row(MessageRecord, row)

    async def list_since(
        self, conversation_id: int, after_seq: int = 0, limit: int | None = None
    ) -> list[MessageRecord]:
        """The conversation's messages after ``after_seq``, in order."""
        query = (
            select(messages)
            .where(messages.c.conversation_id == conversation_id, messages.c.seq > after_seq)
            .order_by(messages.c.seq)
            .limit(limit)
        )
        async with self.db.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [record_from_row(MessageRecord, row) for row in rows]

    async def outbox(self, limit: int = 100, conversation_id: int | None = None) -> list[MessageRecord]:
        """Messages stored but not yet posted, oldest first."""
        query = select(messages).where(messages.c.posted_at.is_(None)).order_by(messages.c.id).limit(limit)
        if conversation_id is not None:
            query = query.where(messages.c.conversation_id == conversation_id)
        async with self.db.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [record_from_row(MessageRecord, row) for row in rows]

    async def mark_posted_many(self, posted: Sequence[tuple[int, str]]) -> None:
        """Record many (message id, platform message id) pairs as posted, in one transaction."""
        if not posted:
            return
        statement = (
            update(messages)
            .where(messages.c.id == bindparam("message_id"), messages.c.posted_at.is_(None))
            .values(platform_message_id=bindparam("platform_id"), posted_at=self.now())
        )
        rows = [{"message_id": m, "platform_id": p} for m, p in posted]
        await self.db.write(lambda conn: conn.execute(statement, rows))

    async def mark_posted(
        self, message_id: int, platform_message_id: str, posted_at: dt.datetime | None = None
    ) -> bool:
        """Record that the message is in the thread; False when it already was (posting is idempotent)."""
        statement = (
            update(messages)
            .where(messages.c.id == message_id, messages.c.posted_at.is_(None))
            .values(platform_message_id=platform_message_id, posted_at=posted_at or self.now())
            .returning(messages.c.id)
        )
        return await self.db.write(lambda conn: conn.execute(statement).first() is not None)
