"""Conversations: one per platform thread, with the engine's state under optimistic concurrency."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from ..errors import ConflictError, NotFoundError
from ..records import ConversationRecord, record_from_row
from ..schema import conversations
from ._base import Store

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
        values: dict[str, Any] = {
            "state": state,
            "version": conversations.c.version + 1,
            "updated_at": self.now(),
        }
        if status is not None:
            values["status"] = status
        statement = (
            update(conversations)
            .where(conversations.c.id == conversation_id, conversations.c.version == expected_version)
            .values(**values)
            .returning(*conversations.c)
        )
        async with self.db.begin() as conn:
            row = (await conn.execute(statement)).first()
            if row is None:
                current = (
                    await conn.execute(select(conversations.c.version).where(conversations.c.id == conversation_id))
                ).scalar_one_or_none()
        if row is None:
            if current is None:
                raise NotFoundError(f"there is no conversation {conversation_id}")
            raise ConflictError(
                f"conversation {conversation_id} was saved by someone else: it is at version {current}, "
                f"not {expected_version}"
            )
        return record_from_row(ConversationRecord, row)

    async def set_status(self, conversation_id: int, status: str) -> None:
        """Change only the status (no version check: status is advisory; the state is not touched)."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(status=status, updated_at=self.now())
            )

    async def list_active(self) -> list[ConversationRecord]:
        """Conversations that are running or waiting: what to resume after a restart."""
        query = select(conversations).where(conversations.c.status.in_(ACTIVE_STATUSES)).order_by(conversations.c.id)
        async with self.db.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [record_from_row(ConversationRecord, row) for row in rows]
