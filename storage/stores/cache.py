"""The model-response cache, shared by every process on the database.

It has the shape of the agent layer's ``ResponseCache`` (``get`` / ``set`` of JSON values);
bot/ hands it to the agents.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select

from ..schema import llm_cache
from ._base import Store

__all__ = ["ResponseCacheStore"]


class ResponseCacheStore(Store):
    async def get(self, key: str) -> dict[str, Any] | None:
        async with self.db.connect() as conn:
            query = select(llm_cache.c.value).where(llm_cache.c.key == key)
            value: dict[str, Any] | None = (await conn.execute(query)).scalar_one_or_none()
        return value

    async def set(self, key: str, value: dict[str, Any]) -> None:
        statement = (
            self.insert(llm_cache)
            .values(key=key, value=value, created_at=self.now())
            .on_conflict_do_update(index_elements=["key"], set_={"value": value, "created_at": self.now()})
        )
        async with self.db.begin() as conn:
            await conn.execute(statement)

    async def purge(self, older_than: dt.timedelta) -> int:
        """Forget responses stored more than ``older_than`` ago; returns how many."""
        cutoff = self.now() - older_than
        async with self.db.begin() as conn:
            result = await conn.execute(delete(llm_cache).where(llm_cache.c.created_at < cutoff))
        return int(result.rowcount)
