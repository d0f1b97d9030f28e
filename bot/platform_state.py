"""A platform adapter's small store on the bot's ``platform_state`` table (adapters never see the
database: they are handed this)."""

from __future__ import annotations

from typing import Any

from storage import Database

__all__ = ["DatabaseStateStore"]


class DatabaseStateStore:
    """JSON values by key, kept across restarts, for the platform ``platform`` (Discord's channel
    webhooks, the web thread's posts)."""

    def __init__(self, db: Database, platform: str) -> None:
        self.db = db
        self.platform = platform

    async def get(self, key: str) -> Any | None:
        return await self.db.stores.platform_state.get(self.platform, key)

    async def put(self, key: str, value: Any) -> None:
        await self.db.stores.platform_state.put(self.platform, key, value)

    async def delete(self, key: str) -> None:
        await self.db.stores.platform_state.delete(self.platform, key)

    async def items(self, prefix: str = "") -> list[tuple[str, Any]]:
        return await self.db.stores.platform_state.items(self.platform, prefix)
