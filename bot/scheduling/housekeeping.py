"""Housekeeping: forget what is no longer needed, on a clock.

- processed-event keys older than ``event_retention`` (platforms stop retrying within minutes;
  schedule fires and reminders are claimed on other rows and keys that outlive no grace);
- model responses cached longer than ``cache_retention``;
- the work dirs (``<data_dir>/work/conversation-N``) of conversations that finished (or were
  deleted) more than ``work_retention`` ago.

Every process may run it: each step is idempotent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from storage import ACTIVE_STATUSES, Database, NotFoundError

__all__ = ["Housekeeping", "Swept"]

_log = logging.getLogger(__name__)

_KEPT_STATUSES = {*ACTIVE_STATUSES, "paused"}  # a run that may go on keeps its files


@dataclass(frozen=True, slots=True)
class Swept:
    """What one round of housekeeping removed."""

    event_keys: int
    cache_entries: int
    work_dirs: list[str]


class Housekeeping:
    """Purges old rows and work dirs.

    Args:
        db: the database.
        work_root: where conversations' work dirs live.
        event_retention, cache_retention, work_retention: how long each is kept.
    """

    def __init__(
        self,
        db: Database,
        work_root: Path,
        *,
        event_retention: dt.timedelta = dt.timedelta(days=7),
        cache_retention: dt.timedelta = dt.timedelta(days=30),
        work_retention: dt.timedelta = dt.timedelta(days=7),
    ) -> None:
        self.db = db
        self.work_root = work_root
        self.event_retention = event_retention
        self.cache_retention = cache_retention
        self.work_retention = work_retention

    async def sweep(self, now: dt.datetime | None = None) -> Swept:
        """One round; ``now`` defaults to the database's clock (the rows are purged by that clock)."""
        now = now or self.db.clock()
        stores = self.db.stores
        events = await stores.events.purge(self.event_retention)
        cache = await stores.llm_cache.purge(self.cache_retention)
        removed = [path.name for path in await self._old_work_dirs(now)]
        for name in removed:
            await asyncio.to_thread(shutil.rmtree, self.work_root / name, True)
        if events or cache or removed:
            _log.info("housekeeping: %d event keys, %d cached responses, %d work dirs", events, cache, len(removed))
        return Swept(events, cache, removed)

    async def _old_work_dirs(self, now: dt.datetime) -> list[Path]:
        if not self.work_root.is_dir():
            return []
        old = []
        for path in sorted(self.work_root.iterdir()):
            number = path.name.removeprefix("conversation-")
            if not path.is_dir() or number == path.name or not number.isdigit():
                continue  # not ours
            try:
                record = await self.db.stores.conversations.get(int(number))
            except NotFoundError:
                old.append(path)  # its conversation is gone
                continue
            if record.status not in _KEPT_STATUSES and now - record.updated_at > self.work_retention:
                old.append(path)
        return old
