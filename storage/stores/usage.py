"""Usage: every model call's tokens and cost, and running totals on the conversation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy import Connection, case, func, insert, select, update

from ..records import ModelUsage, NewUsage
from ..schema import conversations, usage
from ._base import Store

__all__ = ["UsageStore", "log_usage_in"]


def log_usage_in(conn: Connection, conversation_id: int | None, items: Sequence[NewUsage], now: dt.datetime) -> None:
    """Add usage rows inside the caller's transaction (not the conversation's totals)."""
    if items:
        conn.execute(
            insert(usage),
            [{**asdict(item), "conversation_id": conversation_id, "created_at": now} for item in items],
        )


class UsageStore(Store):
    async def record(
        self,
        model: str,
        *,
        prompt_tokens: int,
        completion_tokens: int,
        cost: float,
        cached: bool,
        conversation_id: int | None = None,
    ) -> None:
        """Store one call; a call served from the cache does not add to the conversation's totals."""
        item = NewUsage(model, prompt_tokens, completion_tokens, cost, cached)
        now = self.now()

        def work(conn: Connection) -> None:
            log_usage_in(conn, conversation_id, [item], now)
            if conversation_id is not None and not cached:
                conn.execute(
                    update(conversations)
                    .where(conversations.c.id == conversation_id)
                    .values(
                        prompt_tokens=conversations.c.prompt_tokens + prompt_tokens,
                        completion_tokens=conversations.c.completion_tokens + completion_tokens,
                        cost=conversations.c.cost + cost,
                    )
                )

        await self.db.write(work)

    async def totals(
        self, *, conversation_id: int | None = None, since: dt.datetime | None = None
    ) -> dict[str, ModelUsage]:
        """Per model: tokens and cost of the calls that reached a model, and how many calls were cached."""
        actual = usage.c.cached.is_(False)
        query = select(
            usage.c.model,
            func.sum(case((actual, usage.c.prompt_tokens), else_=0)),
            func.sum(case((actual, usage.c.completion_tokens), else_=0)),
            func.sum(case((actual, usage.c.cost), else_=0.0)),
            func.count(),
            func.sum(case((actual, 0), else_=1)),
        ).group_by(usage.c.model)
        if conversation_id is not None:
            query = query.where(usage.c.conversation_id == conversation_id)
        if since is not None:
            query = query.where(usage.c.created_at >= since)
        async with self.db.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {
            model: ModelUsage(int(prompt or 0), int(completion or 0), float(cost or 0), int(calls), int(cached or 0))
            for model, prompt, completion, cost, calls, cached in rows
        }
