"""What platform adapters keep between runs, by their own keys (storage knows no platform's words)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from ..schema import platform_state
from ._base import Store

__all__ = ["PlatformStateStore"]


class PlatformStateStore(Store):
    """A small JSON value per (platform, key): a Discord channel's webhook, say."""

    async def get(self, platform: str, key: str) -> Any | None:
        """The value stored under ``key``, or None."""
        query = select(platform_state.c.value).where(platform_state.c.platform == platform, platform_state.c.key == key)
        async with self.db.connect() as conn:
            return (await conn.execute(query)).scalar_one_or_none()

    async def items(self, platform: str, prefix: str = "") -> list[tuple[str, Any]]:
        """Every key of ``platform`` that starts with ``prefix``, with its value, in key order."""
        query = (
            select(platform_state.c.key, platform_state.c.value)
            .where(platform_state.c.platform == platform, platform_state.c.key.startswith(prefix, autoescape=True))
            .order_by(platform_state.c.key)
        )
        async with self.db.connect() as conn:
            return [(row.key, row.value) for row in await conn.execute(query)]

    async def put(self, platform: str, key: str, value: Any) -> None:
        """Store ``value`` under ``key`` (replacing what was there)."""
        now = self.now()
        statement = self.insert(platform_state).values(platform=platform, key=key, value=value, updated_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=[platform_state.c.platform, platform_state.c.key],
            set_={"value": statement.excluded.value, "updated_at": now},
        )
        async with self.db.begin() as conn:
            await conn.execute(statement)

    async def delete(self, platform: str, key: str) -> None:
        """Forget ``key`` (nothing happens when it is not there)."""
        statement = delete(platform_state).where(platform_state.c.platform == platform, platform_state.c.key == key)
        async with self.db.begin() as conn:
            await conn.execute(statement)
