"""What a platform adapter keeps in the bot's database (adapters never see the database: they are
handed these): a small store on the ``platform_state`` table, and the requests it answered and
has not handed over yet, in the inbox."""

from __future__ import annotations

from typing import Any

from storage import Database

__all__ = ["DatabaseRequestInbox", "DatabaseStateStore", "requests_of"]


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


def requests_of(platform: str) -> str:
    """The inbox's name for the requests ``platform`` answered and has not handed over yet."""
    return f"{platform}-requests"


class DatabaseRequestInbox:
    """The platform ``platform``'s requests (Slack's events as it sent them), kept in the inbox
    before the platform gets its answer; each key once (a retried request is a duplicate)."""

    def __init__(self, db: Database, platform: str) -> None:
        self.db = db
        self.name = requests_of(platform)

    async def keep(self, key: str, payload: Any) -> int | None:
        return await self.db.stores.events.accept(self.name, [f"request:{key}"], payload)

    async def pending(self) -> list[tuple[int, Any]]:
        return await self.db.stores.events.pending(self.name)

    async def done(self, kept_id: int) -> None:
        await self.db.stores.events.handled([kept_id])
