"""Schedules: team runs that start on a cron expression or every so often, in a time zone."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, delete, or_, select, update

from ..errors import ConflictError, NotFoundError
from ..records import NewSchedule, ScheduleRecord, record_from_row
from ..schema import schedules
from ._base import Store

__all__ = ["ScheduleStore"]


class ScheduleStore(Store):
    async def add(
        self,
        name: str,
        *,
        team: str,
        platform: str,
        workspace_id: str,
        channel_id: str,
        message: str,
        cron: str | None = None,
        every_seconds: int | None = None,
        timezone: str = "UTC",
        source: str = "chat",
    ) -> ScheduleRecord:
        """Add a schedule (``cron`` or ``every_seconds`` says when; the caller checked them).

        Raises:
            ConflictError: a schedule of that name exists.
        """
        new = NewSchedule(name, team, platform, workspace_id, channel_id, message, cron, every_seconds, timezone)
        statement = (
            self.insert(schedules)
            .values(**self._values(new, source))
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(*schedules.c)
        )
        async with self.db.begin() as conn:
            row = (await conn.execute(statement)).first()
        if row is None:
            raise ConflictError(f"a schedule named {name!r} exists already")
        return record_from_row(ScheduleRecord, row)

    async def replace_file_schedules(self, team: str, wanted: Sequence[NewSchedule]) -> None:
        """Make ``team``'s team-file schedules exactly ``wanted`` (by name), in one transaction.

        A schedule whose timing and place did not change is left as it is (so a restart does not
        fire it again, nor undo a pause); schedules added in chat or on the command line are left
        alone, unless a team-file schedule takes their name. Several processes starting at once
        write the same rows without conflict.
        """
        async with self.db.begin() as conn:
            current = await conn.execute(
                select(schedules.c.name).where(schedules.c.team == team, schedules.c.source == "file")
            )
            gone = set(current.scalars()) - {w.name for w in wanted}
            if gone:
                await conn.execute(delete(schedules).where(schedules.c.name.in_(sorted(gone))))
            for new in wanted:
                fields = dataclasses.asdict(new)
                values = self._values(new, "file")
                changed = or_(
                    schedules.c.source != "file", *(schedules.c[k].is_distinct_from(v) for k, v in fields.items())
                )
                await conn.execute(
                    self.insert(schedules)
                    .values(**values)
                    .on_conflict_do_update(index_elements=["name"], set_={**values, "last_run_at": None}, where=changed)
                )

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

    async def claim_fire(self, schedule_id: int, fire_time: dt.datetime) -> bool:
        """True for exactly one caller per (schedule, fire time), in whichever process.

        The claim moves the schedule's ``last_run_at`` forward to ``fire_time``; a fire at or
        before the last one claimed is refused, as is a schedule that was paused or deleted.
        """
        last = schedules.c.last_run_at
        statement = (
            update(schedules)
            .where(
                and_(schedules.c.id == schedule_id, schedules.c.enabled.is_(True)),
                or_(last.is_(None), last < fire_time),
            )
            .values(last_run_at=fire_time)
        )
        async with self.db.begin() as conn:
            result = await conn.execute(statement)
        return bool(result.rowcount)

    async def remove(self, name: str) -> None:
        async with self.db.begin() as conn:
            result = await conn.execute(delete(schedules).where(schedules.c.name == name))
        if not result.rowcount:
            raise NotFoundError(f"there is no schedule named {name!r}")

    def _values(self, new: NewSchedule, source: str) -> dict[str, object]:
        if (new.cron is None) == (new.every_seconds is None):
            raise ValueError("a schedule has either a cron expression or an interval")
        return {**dataclasses.asdict(new), "enabled": True, "source": source, "created_at": self.now()}

    async def _update(self, name: str, **values: object) -> None:
        async with self.db.begin() as conn:
            result = await conn.execute(update(schedules).where(schedules.c.name == name).values(**values))
        if not result.rowcount:
            raise NotFoundError(f"there is no schedule named {name!r}")
