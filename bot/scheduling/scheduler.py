"""Scheduled team runs: which fires are due at a given time, claimed once across every process.

The :class:`Scheduler` is pure of time: :meth:`Scheduler.run_due` is told what time it is, reads
the ``schedules`` table, and fires what is due. Production code calls it when APScheduler's
triggers wake it up (see ``service.py``); tests call it with a fake clock.

Missed fires (the bot was down, the loop was busy) coalesce: of the fire times that passed
since the last run, only the latest one runs, and only if it is at most ``misfire_grace`` late;
a later one is passed over, and the schedule waits for its next time.

Each fire is claimed in the database (the schedule's ``last_run_at`` moves forward to the fire
time in one conditional UPDATE) before it runs, so with several bot processes on one database
each fire runs once, in whichever process claims it first; a process that is down misses
nothing that another one serves.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from apscheduler.triggers.base import BaseTrigger

from storage import Database, ScheduleRecord

from .timing import Timing, latest_due, next_fire

__all__ = ["DEFAULT_MISFIRE_GRACE", "Fire", "Scheduler", "StartRun", "timing_of"]

_log = logging.getLogger(__name__)

StartRun = Callable[[ScheduleRecord, dt.datetime], Awaitable[object]]
"""What a fire does: start the schedule's run (the fire time is the second argument)."""

DEFAULT_MISFIRE_GRACE = dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Fire:
    """A schedule that ran, and the fire time it ran for."""

    schedule: ScheduleRecord
    at: dt.datetime


def timing_of(schedule: ScheduleRecord) -> Timing:
    return Timing(schedule.cron, schedule.every_seconds, schedule.timezone)


class Scheduler:
    """Fires the schedules that are due.

    Args:
        db: the database with the ``schedules`` table (shared by every bot process).
        start: starts a schedule's run; called once per claimed fire.
        misfire_grace: how late a fire may still run (see the module docstring).
        platforms: the platforms this process serves (None: all); other platforms' schedules
            are left to the processes that serve them.
    """

    def __init__(
        self,
        db: Database,
        start: StartRun,
        *,
        misfire_grace: dt.timedelta = DEFAULT_MISFIRE_GRACE,
        platforms: Collection[str] | None = None,
    ) -> None:
        self.db = db
        self.start = start
        self.misfire_grace = misfire_grace
        self.platforms = set(platforms) if platforms is not None else None
        self._triggers: dict[tuple[object, ...], BaseTrigger] = {}
        self._passed_over: set[tuple[int, dt.datetime]] = set()

    async def schedules(self) -> list[ScheduleRecord]:
        """The enabled schedules this process fires."""
        found = await self.db.stores.schedules.list(enabled_only=True)
        return [s for s in found if self.platforms is None or s.platform in self.platforms]

    def trigger(self, schedule: ScheduleRecord) -> BaseTrigger:
        """APScheduler's trigger for ``schedule`` (kept while its timing stays the same)."""
        key = (schedule.id, schedule.cron, schedule.every_seconds, schedule.timezone, schedule.created_at)
        if key not in self._triggers:
            self._triggers[key] = timing_of(schedule).trigger(schedule.created_at)
        return self._triggers[key]

    def next_fire(self, schedule: ScheduleRecord, now: dt.datetime) -> dt.datetime | None:
        """When ``schedule`` fires next after ``now`` (None: never again)."""
        return next_fire(self.trigger(schedule), schedule.last_run_at, schedule.created_at, now)

    async def run_due(self, now: dt.datetime | None = None, *, only: int | None = None) -> list[Fire]:
        """Fire every schedule due at ``now`` (default: the database's clock), or only schedule ``only``.

        Returns the fires this process ran (a fire another process claimed is not among them).
        A run that fails to start is logged; its fire counts as spent.
        """
        now = now or self.db.clock()
        fired: list[Fire] = []
        for schedule in await self.schedules():
            if only is not None and schedule.id != only:
                continue
            try:
                at = latest_due(self.trigger(schedule), schedule.last_run_at, schedule.created_at, now)
            except Exception:  # a row written by hand, or a zone this machine lacks: skip it, loudly
                _log.exception("schedule %s cannot be read; it does not fire", schedule.name)
                continue
            if at is None:
                continue
            if now - at > self.misfire_grace:
                if (schedule.id, at) not in self._passed_over:
                    self._passed_over.add((schedule.id, at))
                    _log.warning(
                        "schedule %s missed its run at %s by more than %s", schedule.name, at, self.misfire_grace
                    )
                continue
            if not await self.db.stores.schedules.claim_fire(schedule.id, at):
                continue  # another process runs it
            try:
                await self.start(schedule, at)
            except Exception:
                _log.exception("schedule %s could not start its run for %s", schedule.name, at)
                continue
            fired.append(Fire(schedule, at))
        return fired
