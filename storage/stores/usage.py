"""Usage: every model call's tokens and cost, and running totals on the conversation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

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
        query = select(usage.c.model, *_sums()).group_by(usage.c.model)
        if conversation_id is not None:
            query = query.where(usage.c.conversation_id == conversation_id)
        if since is not None:
            query = query.where(usage.c.created_at >= since)
        async with self.db.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {model: _model_usage(rest) for model, *rest in rows}

    async def breakdown(self, by: str, *, since: dt.datetime | None = None) -> list[tuple[str, ModelUsage]]:
        """Tokens and cost by ``by``: ``team``, ``model`` or ``day`` (UTC, ``YYYY-MM-DD``; newest first);
        teams and models by cost, largest first.

        Raises:
            ValueError: ``by`` is none of those.
        """
        keys = {
            "team": func.coalesce(conversations.c.team, "(no conversation)"),
            "model": usage.c.model,
            "day": func.date(usage.c.created_at),
        }
        if by not in keys:
            raise ValueError(f"usage by {by!r}: choose team, model or day")
        key = keys[by].label("key")
        query = (
            select(key, *_sums())
            .select_from(usage.outerjoin(conversations, usage.c.conversation_id == conversations.c.id))
            .group_by(key)
        )
        if since is not None:
            query = query.where(usage.c.created_at >= since)
        async with self.db.connect() as conn:
            rows = (await conn.execute(query)).all()
        found = [(str(name), _model_usage(rest)) for name, *rest in rows]
        if by == "day":
            return sorted(found, key=lambda item: item[0], reverse=True)
        return sorted(found, key=lambda item: (-item[1].cost, item[0]))


def _sums() -> list[Any]:
    """Prompt and completion tokens and cost of the calls that reached a model; all calls; cached calls."""
    actual = usage.c.cached.is_(False)
    return [
        func.sum(case((actual, usage.c.prompt_tokens), else_=0)),
        func.sum(case((actual, usage.c.completion_tokens), else_=0)),
        func.sum(case((actual, usage.c.cost), else_=0.0)),
        func.count(),
        func.sum(case((actual, 0), else_=1)),
    ]


def _model_usage(sums: Sequence[Any]) -> ModelUsage:
    prompt, completion, cost, calls, cached = sums
    return ModelUsage(int(prompt or 0), int(completion or 0), float(cost or 0), int(calls), int(cached or 0))
