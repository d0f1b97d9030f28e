"""Conversations: one per platform thread, with the engine's state under optimistic concurrency."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..errors import ConflictError, NotFoundError
from ..records import ConversationRecord, MessageRecord, NewMessage, record_from_row
from ..schema import conversations
from ._base import Store
from .messages import append_in

__all__ = ["ACTIVE_STATUSES", "ConversationStore"]

ACTIVE_STATUSES = ("running", "waiting")


class ConversationStore(Store):
    async def get_or_create(
        self, platform: str, workspace_id: str, channel_id: str, thread_id: str, *, team: str, status: str = "new"
    ) -> ConversationRecord:
        """The thread's conversation, created when there is none (concurrent callers get the same one)."""
        now = self.now()
        key = {"platform": platform, "workspace_id": workspace_id, "channel_id": channel_id, "thread_id": thread_id}
        async with self.db.begin() as conn:
            await conn.execute(
                self.insert(conversations)
                .values(**key, team=team, status=status, created_at=now, updated_at=now)
                .on_conflict_do_nothing(index_elements=list(key))
            )
            row = (
                await conn.execute(select(conversations).where(*(conversations.c[k] == v for k, v in key.items())))
            ).one()
        return record_from_row(ConversationRecord, row)

    async def find(
        self, platform: str, workspace_id: str, channel_id: str, thread_id: str
    ) -> ConversationRecord | None:
        query = select(conversations).where(
            conversations.c.platform == platform,
            conversations.c.workspace_id == workspace_id,
            conversations.c.channel_id == channel_id,
            conversations.c.thread_id == thread_id,
        )
        async with self.db.connect() as conn:
            row = (await conn.execute(query)).first()
        return record_from_row(ConversationRecord, row) if row else None

    async def get(self, conversation_id: int) -> ConversationRecord:
        """Raises NotFoundError."""
        async with self.db.connect() as conn:
            row = (await conn.execute(select(conversations).where(conversations.c.id == conversation_id))).first()
        if row is None:
            raise NotFoundError(f"there is no conversation {conversation_id}")
        return record_from_row(ConversationRecord, row)

    async def save_state(
        self, conversation_id: int, state: Any, *, expected_version: int, status: str | None = None
    ) -> ConversationRecord:
        """Store the engine's state (and status) if nobody saved since ``expected_version``.

        Raises:
            ConflictError: someone else saved first; re-read and decide again.
            NotFoundError: no such conversation.
        """
        async with self.db.begin() as conn:
            return await self._save_in(conn, conversation_id, state, expected_version, status)

    async def _save_in(
        self, conn: AsyncConnection, conversation_id: int, state: Any, expected_version: int, status: str | None
    ) -> ConversationRecord:
        values: dict[str, Any] = {"state": state, "version": conversations.c.version + 1, "updated_at": self.now()}
        if status is not None:
            values["status"] = status
        statement = (
            update(conversations)
            .where(conversations.c.id == conversation_id, conversations.c.version == expected_version)
            .values(**values)
            .returning(*conversations.c)
        )
        row = (await conn.execute(statement)).first()
        if row is not None:
            return record_from_row(ConversationRecord, row)
        current = (
            await conn.execute(select(conversations.c.version).where(conversations.c.id == conversation_id))
        ).scalar_one_or_none()
        if current is None:
            raise NotFoundError(f"there is no conversation {conversation_id}")
        raise ConflictError(
            f"conversation {conversation_id} was saved by someone else: it is at version {current}, "
            f"not {expected_version}"
        )

    async def save_step(
        self,
        conversation_id: int,
        state: Any,
        *,
        expected_version: int,
        status: str | None = None,
        messages: Sequence[NewMessage] = (),
    ) -> tuple[ConversationRecord, list[MessageRecord]]:
        """Store a step's new messages and the engine's state after it, in one transaction.

        Either both are stored or neither: a crash after this leaves the messages in the outbox
        and the state past them, so nothing is produced twice.

        Raises:
            ConflictError: someone else saved first (nothing is stored).
            NotFoundError: no such conversation.
        """
        async with self.db.begin() as conn:
            # Messages first, so that the record comes back with their numbers; a stale version
            # raises and rolls the whole transaction back.
            stored = await append_in(conn, conversation_id, messages, self.now())
            record = await self._save_in(conn, conversation_id, state, expected_version, status)
        return record, stored

    async def set_status(self, conversation_id: int, status: str) -> None:
        """Change only the status (no version check: status is advisory; the state is not touched)."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(status=status, updated_at=self.now())
            )

    async def recent(self, limit: int = 20) -> list[ConversationRecord]:
        """The conversations changed last, newest first."""
        query = select(conversations).order_by(conversations.c.updated_at.desc(), conversations.c.id.desc())
        async with self.db.connect() as conn:
            rows = (await conn.execute(query.limit(limit))).all()
        return [record_from_row(ConversationRecord, row) for row in rows]

    async def list_active(self) -> list[ConversationRecord]:
        """Conversations that are running or waiting: what to resume after a restart."""
        query = select(conversations).where(conversations.c.status.in_(ACTIVE_STATUSES)).order_by(conversations.c.id)
        async with self.db.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [record_from_row(ConversationRecord, row) for row in rows]
