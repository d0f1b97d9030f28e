"""Processed platform events: each one is handled once, across every process."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, or_, select

from ..errors import HandledElsewhereError
from ..schema import inbox, processed_events
from ._bare import accept_bare, bare_sqlite
from ._base import Store

__all__ = ["EventStore", "check_all_there", "handled_in"]


class EventStore(Store):
    async def claim(self, platform: str, key: str, *also: str) -> bool:
        """True for exactly one caller per (platform, key), whoever and wherever they are.

        With ``also`` (other keys of the same thing, e.g. its message id), all are claimed in
        one transaction, and the answer is True only if none of them was claimed before.
        """
        claim, now = self._claim, self.now()
        return await self.db.write(lambda conn: _claim_all(conn, claim, platform, [key, *also], now))

    async def accept(
        self, platform: str, keys: Sequence[str], payload: Any, *, thread: str | None = None
    ) -> int | None:
        """Claim an event's ``keys`` and keep ``payload`` in the inbox until it is handled.

        ``thread``: the key of the event's thread, for :meth:`pending` to find it by.
        Returns the inbox id, or None when one of the keys was claimed before (a duplicate).
        """
        claim, now = self._claim, self.now()
        values = {"platform": platform, "event_key": keys[0], "payload": payload, "created_at": now}
        values["thread_key"] = thread

        def work(conn: Connection) -> int | None:
            driver = bare_sqlite(conn)
            if driver is not None:
                return accept_bare(driver, conn.dialect, keys, values)
            if not _claim_all(conn, claim, platform, keys, now):
                return None
            return int(conn.execute(_KEEP, values).scalar_one())

        return await self.db.write(work)

    async def pending(self, platform: str, *, thread: str | None = None) -> list[tuple[int, Any]]:
        """Accepted events not handled yet, oldest first: (inbox id, payload).

        ``thread``: only those accepted with that thread key, and those accepted without one
        (before the inbox kept it); the caller picks its own among the latter.
        """
        query = select(inbox.c.id, inbox.c.payload).where(inbox.c.platform == platform).order_by(inbox.c.id)
        if thread is not None:
            query = query.where(or_(inbox.c.thread_key == thread, inbox.c.thread_key.is_(None)))
        async with self.db.connect() as conn:
            return [(row.id, row.payload) for row in await conn.execute(query)]

    async def handled(self, inbox_ids: Sequence[int]) -> None:
        """Take handled events out of the inbox (see also ``save_step(handled=...)``)."""
        if inbox_ids:
            await self.db.write(functools.partial(handled_in, inbox_ids=inbox_ids))

    async def purge(self, older_than: dt.timedelta) -> int:
        """Forget keys older than ``older_than`` (platforms stop retrying long before); returns how many."""
        cutoff = self.now() - older_than
        async with self.db.begin() as conn:
            result = await conn.execute(delete(processed_events).where(processed_events.c.created_at < cutoff))
        return int(result.rowcount)

    @functools.cached_property
    def _claim(self) -> Any:
        """The claim of one key, built once: a burst of events compiles and hashes it once, not per event."""
        return (
            self.insert(processed_events)
            .values(platform=bindparam("platform"), event_key=bindparam("key"), created_at=bindparam("at"))
            .on_conflict_do_nothing(index_elements=["platform", "event_key"])
            .returning(processed_events.c.event_key)
        )


_KEEP = insert(inbox).returning(inbox.c.id)
"""An event into the inbox (its values given as parameters, so the statement is built once)."""


def _claim_all(conn: Connection, claim: Any, platform: str, keys: Sequence[str], at: dt.datetime) -> bool:
    """Claim every one of ``keys``; True only if none was claimed before."""
    claims = [conn.execute(claim, {"platform": platform, "key": k, "at": at}).first() for k in keys]  # claim them all
    return all(found is not None for found in claims)


def handled_in(conn: Connection, inbox_ids: Sequence[int], *, all_there: bool = False) -> None:
    """Delete handled events from the inbox, inside the caller's transaction.

    Raises:
        HandledElsewhereError: ``all_there`` and one of them was gone (the caller rolls back).
    """
    if inbox_ids:
        deleted = conn.execute(delete(inbox).where(inbox.c.id.in_(list(inbox_ids)))).rowcount
        if all_there:
            check_all_there(deleted, inbox_ids)


def check_all_there(deleted: int, inbox_ids: Sequence[int]) -> None:
    """Raises HandledElsewhereError when fewer than ``inbox_ids`` were deleted."""
    if deleted < len(set(inbox_ids)):
        raise HandledElsewhereError(f"inbox event(s) {sorted(set(inbox_ids))} were handled already")
