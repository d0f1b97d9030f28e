"""Messages: appended with the next sequence number of their conversation, posted through an outbox."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy import Connection, bindparam, insert, select, update

from ..errors import NotFoundError
from ..records import MessageRecord, NewMessage, record_from_row
from ..schema import conversations, messages
from ._base import Store

__all__ = ["MessageStore", "append_in", "insert_numbered"]


_INSERT_RETURNING = insert(messages).returning(*messages.c, sort_by_parameter_order=True)


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
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .values(last_seq=conversations.c.last_seq + len(new), updated_at=now)
        .returning(conversations.c.last_seq)
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
    rows = conn.execute(
        _INSERT_RETURNING,
        [
            {**asdict(m), "conversation_id": conversation_id, "seq": first_seq + i, "created_at": now}
            for i, m in enumerate(new)
        ],
    ).all()
    return [record_from_row(MessageRecord, row) for row in rows]


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
        return await self.db.write(
            functools.partial(append_in, conversation_id=conversation_id, new=new, now=self.now())
        )

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
