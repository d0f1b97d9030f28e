"""Processed platform events: each one is handled once, across every process."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, bindparam, delete

from ..schema import processed_events
from ._base import Store

__all__ = ["EventStore"]


class EventStore(Store):
    async def claim(self, platform: str, key: str, *also: str) -> bool:
        """True for exactly one caller per (platform, key), whoever and wherever they are.

        With ``also`` (other keys of the same thing, e.g. its message id), all are claimed in
        one transaction, and the answer is True only if none of them was claimed before.
        """
        statement = (
            self.insert(processed_events)
            .values(platform=platform, event_key=bindparam("key"), created_at=self.now())
            .on_conflict_do_nothing(index_elements=["platform", "event_key"])
            .returning(processed_events.c.event_key)
        )

        def work(conn: Connection) -> bool:
            new = [conn.execute(statement, {"key": k}).first() is not None for k in (key, *also)]
            return all(new)

        return await self.db.write(work)

    async def purge(self, older_than: dt.timedelta) -> int:
        """Forget keys older than ``older_than`` (platforms stop retrying long before); returns how many."""
        cutoff = self.now() - older_than
        async with self.db.begin() as conn:
            result = await conn.execute(delete(processed_events).where(processed_events.c.created_at < cutoff))
        return int(result.rowcount)
