"""Waits: what a conversation asks of people (human input, approvals), and who answered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Connection, insert, select, update

from ..errors import ConflictError, NotFoundError
from ..records import NewWait, WaitAnswer, WaitRecord, record_from_row
from ..schema import waits
from ._base import Store

__all__ = ["WaitStore", "answer_waits_in", "open_wait_in"]


def open_wait_in(conn: Connection, conversation_id: int, wait: NewWait, now: dt.datetime) -> int:
    """Open a wait inside the caller's transaction; returns its id."""
    statement = (
        insert(waits)
        .values(
            conversation_id=conversation_id,
            kind=wait.kind,
            agent=wait.agent,
            prompt=wait.prompt,
            choices=list(wait.choices) if wait.choices is not None else None,
            allowed_answerers=list(wait.allowed_answerers) if wait.allowed_answerers is not None else None,
            expires_at=wait.expires_at,
            created_at=now,
        )
        .returning(waits.c.id)
    )
    return int(conn.execute(statement).scalar_one())


def answer_waits_in(conn: Connection, answers: Sequence[WaitAnswer], now: dt.datetime) -> None:
    """Record answers inside the caller's transaction (a wait answered already keeps its first answer)."""
    for answer in answers:
        conn.execute(
            update(waits)
            .where(waits.c.id == answer.wait_id, waits.c.answered_at.is_(None))
            .values(answer=answer.answer, answered_by=answer.answered_by, answered_at=now)
        )


class WaitStore(Store):
    async def open(
        self,
        conversation_id: int,
        *,
        kind: str,
        agent: str,
        prompt: str,
        choices: Sequence[str] | None = None,
        allowed_answerers: Sequence[str] | None = None,
        expires_at: dt.datetime | None = None,
    ) -> WaitRecord:
        """Record a question; ``allowed_answerers`` None means anyone in the thread may answer."""
        statement = (
            insert(waits)
            .values(
                conversation_id=conversation_id,
                kind=kind,
                agent=agent,
                prompt=prompt,
                choices=list(choices) if choices is not None else None,
                allowed_answerers=list(allowed_answerers) if allowed_answerers is not None else None,
                expires_at=expires_at,
                created_at=self.now(),
            )
            .returning(*waits.c)
        )
        async with self.db.begin() as conn:
            return record_from_row(WaitRecord, (await conn.execute(statement)).one())

    async def answer(self, wait_id: int, answer: str, answered_by: str) -> WaitRecord:
        """Record the answer; the first answer wins.

        Raises:
            ConflictError: it was answered already (the message says by whom).
            NotFoundError: no such wait.
        """
        statement = (
            update(waits)
            .where(waits.c.id == wait_id, waits.c.answered_at.is_(None))
            .values(answer=answer, answered_by=answered_by, answered_at=self.now())
            .returning(*waits.c)
        )
        async with self.db.begin() as conn:
            row = (await conn.execute(statement)).first()
            if row is None:
                earlier = (await conn.execute(select(waits).where(waits.c.id == wait_id))).first()
        if row is not None:
            return record_from_row(WaitRecord, row)
        if earlier is None:
            raise NotFoundError(f"there is no wait {wait_id}")
        raise ConflictError(f"wait {wait_id} was already answered by {earlier.answered_by}")

    async def claim_reminder(self, wait_id: int) -> bool:
        """Mark the open wait ``wait_id`` reminded; False when it was already (here or in another
        process), or is answered. The mark lives as long as the wait, unlike an event key."""
        statement = (
            update(waits)
            .where(waits.c.id == wait_id, waits.c.reminded_at.is_(None), waits.c.answered_at.is_(None))
            .values(reminded_at=self.now())
            .returning(waits.c.id)
        )
        async with self.db.begin() as conn:
            return (await conn.execute(statement)).first() is not None

    async def open_waits(self, conversation_id: int | None = None) -> list[WaitRecord]:
        """Unanswered waits, oldest first (of one conversation, or all)."""
        query = select(waits).where(waits.c.answered_at.is_(None)).order_by(waits.c.id)
        if conversation_id is not None:
            query = query.where(waits.c.conversation_id == conversation_id)
        async with self.db.connect() as conn:
            return [record_from_row(WaitRecord, row) for row in (await conn.execute(query)).all()]

    async def of_conversation(self, conversation_id: int) -> list[WaitRecord]:
        """Every wait of one conversation, answered or not, oldest first."""
        query = select(waits).where(waits.c.conversation_id == conversation_id).order_by(waits.c.id)
        async with self.db.connect() as conn:
            return [record_from_row(WaitRecord, row) for row in (await conn.execute(query)).all()]

    async def expired(self) -> list[WaitRecord]:
        """Unanswered waits whose time is up."""
        query = (
            select(waits)
            .where(waits.c.answered_at.is_(None), waits.c.expires_at.is_not(None), waits.c.expires_at <= self.now())
            .order_by(waits.c.expires_at)
        )
        async with self.db.connect() as conn:
            return [record_from_row(WaitRecord, row) for row in (await conn.execute(query)).all()]
