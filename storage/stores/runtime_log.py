"""The runtime log: what ``agents.runtime_logging`` records while teams run in the bot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

from sqlalchemy import insert, select

from ..records import NewRuntimeLog, RuntimeLogRecord, record_from_row
from ..schema import runtime_log
from ._base import Store

__all__ = ["RuntimeLogStore"]


class RuntimeLogStore(Store):
    """Model calls, agents built, agent events and tool calls, each tied to its conversation."""

    async def add(self, entries: Sequence[NewRuntimeLog]) -> None:
        """Store ``entries`` (in one transaction, shared with the other writes queued meanwhile)."""
        if entries:
            names = [field.name for field in fields(NewRuntimeLog)]
            # Not asdict(): it deep-copies each record (a model call's whole request).
            rows = [{name: getattr(entry, name) for name in names} for entry in entries]
            await self.db.write(lambda conn: conn.execute(insert(runtime_log), rows))

    async def for_conversation(
        self, conversation_id: int, kinds: Sequence[str] = (), after_id: int = 0, limit: int | None = None
    ) -> list[RuntimeLogRecord]:
        """The conversation's records, oldest first; ``kinds``: only these (AutoGen's table names)."""
        query = (
            select(runtime_log)
            .where(runtime_log.c.conversation_id == conversation_id, runtime_log.c.id > after_id)
            .order_by(runtime_log.c.id)
            .limit(limit)
        )
        if kinds:
            query = query.where(runtime_log.c.kind.in_(kinds))
        async with self.db.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [record_from_row(RuntimeLogRecord, row) for row in rows]
