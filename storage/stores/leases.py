"""Leases: one process at a time drives a conversation; a crashed holder's lease runs out."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update

from ..schema import leases
from ._base import Store

__all__ = ["LeaseStore"]


class LeaseStore(Store):
    async def acquire(self, conversation_id: int, owner: str, ttl: dt.timedelta) -> bool:
        """Take the lease, or extend it if ``owner`` holds it; True when ``owner`` holds it now.

        A lease someone else holds is taken over only once it has expired.
        """
        now = self.now()
        statement = (
            self.insert(leases)
            .values(conversation_id=conversation_id, owner=owner, expires_at=now + ttl)
            .on_conflict_do_update(
                index_elements=["conversation_id"],
                set_={"owner": owner, "expires_at": now + ttl},
                where=(leases.c.expires_at <= now) | (leases.c.owner == owner),
            )
            .returning(leases.c.owner)
        )
        async with self.db.begin() as conn:
            return (await conn.execute(statement)).first() is not None

    async def renew(self, conversation_id: int, owner: str, ttl: dt.timedelta) -> bool:
        """Extend a lease ``owner`` still holds; False when it was lost (expired and taken)."""
        now = self.now()
        statement = (
            update(leases)
            .where(leases.c.conversation_id == conversation_id, leases.c.owner == owner, leases.c.expires_at > now)
            .values(expires_at=now + ttl)
            .returning(leases.c.owner)
        )
        async with self.db.begin() as conn:
            return (await conn.execute(statement)).first() is not None

    async def release(self, conversation_id: int, owner: str) -> None:
        """Give the lease up, if ``owner`` holds it."""
        async with self.db.begin() as conn:
            await conn.execute(
                delete(leases).where(leases.c.conversation_id == conversation_id, leases.c.owner == owner)
            )

    async def holder(self, conversation_id: int) -> str | None:
        """Who holds an unexpired lease on the conversation, or None."""
        query = select(leases.c.owner).where(
            leases.c.conversation_id == conversation_id, leases.c.expires_at > self.now()
        )
        async with self.db.connect() as conn:
            owner: str | None = (await conn.execute(query)).scalar_one_or_none()
        return owner
