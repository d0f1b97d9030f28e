"""Schedules: team runs that start on a cron expression."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update

from ..errors import ConflictError, NotFoundError
from ..records import ScheduleRecord, record_from_row
from ..schema import schedules
from ._base import Store

__all__ = ["ScheduleStore"]


class ScheduleStore(Store):
    async def add(
        self, name: str, *, team: str, platform: str, workspace_id: str, channel_id: str, cron: str, message: str
    ) -> ScheduleRecord:
        """Raises ConflictError when a schedule of that name exists."""
        values = {
            "name": name,
            "team": team,
            "platform": platform,
            "workspace_id": workspace_id,
            "channel_id": channel_id,
            "cron": cron,
            "message": message,
            "enabled": True,
            "created_at": self.now(),
        }
        statement = (
            self.insert(schedules)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(*schedules.c)
        )
        async with self.db.begin() as conn:
            row = (await conn.execute(statement)).first()
        if row is None:
            raise ConflictError(f"a schedule named {name!r} exists already")
        return record_from_row(ScheduleRecord, row)

    async def get(self, name: str) -> ScheduleRecord:
        async with self.db.connect() as conn:
            row = (await conn.execute(select(schedules).where(schedules.c.name == name))).first()
        if row is None:
            raise NotFoundError(f"there is no schedule named {name!r}")
        return record_from_row(ScheduleRecord, row)

    async def list(self, *, enabled_only: bool = False) -> list[ScheduleRecord]:
        query = select(schedules).order_by(schedules.c.name)
        if enabled_only:
            query = query.where(schedules.c.enabled.is_(True))
        async with self.db.connect() as conn:
            return [record_from_row(ScheduleRecord, row) for row in (await conn.execute(query)).all()]

    async def set_enabled(self, name: str, enabled: bool) -> None:
        await self._update(name, enabled=enabled)

    async def mark_run(self, name: str, at: dt.datetime | None = None) -> None:
        await self._update(name, last_run_at=at or self.now())

    async def remove(self, name: str) -> None:
        async with self.db.begin() as conn:
            result = await conn.execute(delete(schedules).where(schedules.c.name == name))
        if not result.rowcount:
            raise NotFoundError(f"there is no schedule named {name!r}")

    async def _update(self, name: str, **values: object) -> None:
        async with self.db.begin() as conn:
            result = await conn.execute(update(schedules).where(schedules.c.name == name).values(**values))
        if not result.rowcount:
            raise NotFoundError(f"there is no schedule named {name!r}")
