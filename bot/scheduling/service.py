"""The bot's clockwork on APScheduler's ``AsyncIOScheduler``: scheduled runs, timeouts, housekeeping.

Opened after the dispatcher and closed before it (``async with``). At start it writes the team
files' schedules into the ``schedules`` table, fires what was missed while the bot was down
(within the misfire grace), acts on the deadlines that passed meanwhile, and plans one job per
schedule on the schedule's own trigger. A sync job re-reads the table every
``schedule_sync_seconds``, so schedules added, paused or deleted by any process are followed.

APScheduler keeps its jobs in memory only: what a job acts on lives in our tables, and each
fire is claimed there (see ``scheduler.py``), so several processes can run this side by side.
"""

from __future__ import annotations

import datetime as dt
import logging
from types import TracebackType
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from adapters import Author
from storage import ConversationRecord, NewSchedule, ScheduleRecord, WaitRecord

from ..session import thread_of
from ..settings import Settings
from .housekeeping import Housekeeping
from .scheduler import Scheduler, StartRun
from .timeouts import Expire, TimeoutAction, TimeoutDecision, WaitTimeouts

if TYPE_CHECKING:
    from ..dispatcher import Dispatcher

__all__ = ["SchedulingService", "dispatcher_expire", "dispatcher_start", "scheduling_service"]

_log = logging.getLogger(__name__)

_BUTTONS = {
    TimeoutAction.REMIND: "remind",
    TimeoutAction.CONTINUE: "continue",
    TimeoutAction.DENY: "reject",
    TimeoutAction.STOP: "stop",
}


def dispatcher_start(dispatcher: Dispatcher) -> StartRun:
    """A fire starts the schedule's team in a new thread of its channel, through the dispatcher."""

    async def start(schedule: ScheduleRecord, at: dt.datetime) -> None:
        who = Author(f"schedule:{schedule.name}", f"schedule {schedule.name}")
        await dispatcher.start_run(
            schedule.platform,
            schedule.workspace_id,
            schedule.channel_id,
            schedule.message,
            team=schedule.team,
            started_by=who,
            opening=f"Scheduled run {schedule.name}: {schedule.message}",
        )

    return start


def dispatcher_expire(dispatcher: Dispatcher) -> Expire:
    """A timeout's decision as the timeout's button in the wait's thread: the thread's session stores
    the note (with the wait's answer) and the outbox posts it, once, also after a crash."""

    async def act(conversation: ConversationRecord, wait: WaitRecord, decision: TimeoutDecision) -> bool:
        action = _BUTTONS[decision.action]
        return await dispatcher.expire_wait(thread_of(conversation), wait.id, action, decision.note)

    return act


class SchedulingService:
    """The jobs of one bot process (``async with``).

    Args:
        scheduler: fires the schedules.
        timeouts: acts on waits' deadlines (None: no timeouts).
        housekeeping: purges old rows and work dirs (None: none).
        file_schedules: the team files' schedules, written into the table at start.
        sync_seconds, timeouts_seconds, housekeeping_seconds: how often each job runs.
    """

    def __init__(
        self,
        scheduler: Scheduler,
        *,
        timeouts: WaitTimeouts | None = None,
        housekeeping: Housekeeping | None = None,
        file_schedules: dict[str, list[NewSchedule]] | None = None,
        sync_seconds: float = 30,
        timeouts_seconds: float = 30,
        housekeeping_seconds: float = 3600,
    ) -> None:
        self.scheduler = scheduler
        self.timeouts = timeouts
        self.housekeeping = housekeeping
        self.file_schedules = file_schedules or {}
        self.every = {"sync": sync_seconds, "timeouts": timeouts_seconds, "housekeeping": housekeeping_seconds}
        self._planned: dict[str, tuple[object, ...]] = {}
        grace = int(scheduler.misfire_grace.total_seconds())
        self.aps = AsyncIOScheduler(
            timezone=dt.UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace}
        )

    async def __aenter__(self) -> SchedulingService:
        stores = self.scheduler.db.stores
        for team, wanted in self.file_schedules.items():
            await stores.schedules.replace_file_schedules(team, wanted)
        self.aps.start()
        self._every("sync", self.sync)
        if self.timeouts is not None:
            self._every("timeouts", self.timeouts.check)
            await self.timeouts.check()  # deadlines that passed while the bot was down
        if self.housekeeping is not None:
            self._every("housekeeping", self.housekeeping.sweep)
        await self.sync()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.aps.shutdown(wait=False)

    def _every(self, name: str, job: Any) -> None:
        self.aps.add_job(job, IntervalTrigger(seconds=self.every[name]), id=name, replace_existing=True)

    async def sync(self) -> None:
        """Fire what is due, then plan one job per schedule (following the table's changes)."""
        await self.scheduler.run_due()
        wanted = {f"schedule:{s.id}": s for s in await self.scheduler.schedules()}
        for job_id in set(self._planned) - set(wanted):
            self.aps.remove_job(job_id)
            del self._planned[job_id]
        for job_id, schedule in wanted.items():
            key = (schedule.cron, schedule.every_seconds, schedule.timezone, schedule.created_at)
            if self._planned.get(job_id) == key:
                continue
            try:
                trigger = self.scheduler.trigger(schedule)
            except Exception:
                _log.exception("schedule %s cannot be planned", schedule.name)
                continue
            self.aps.add_job(self._fire, trigger, args=[schedule.id], id=job_id, replace_existing=True)
            self._planned[job_id] = key

    async def _fire(self, schedule_id: int) -> None:
        await self.scheduler.run_due(only=schedule_id)


def scheduling_service(dispatcher: Dispatcher, settings: Settings) -> SchedulingService:
    """The clockwork of a bot process, as ``settings`` configure it."""
    rt = dispatcher.rt
    served = set(rt.platforms)
    scheduler = Scheduler(
        rt.db,
        dispatcher_start(dispatcher),
        misfire_grace=dt.timedelta(seconds=settings.schedule_misfire_grace),
        platforms=served,
    )
    timeouts = WaitTimeouts(rt.db, rt.catalog.timeouts, dispatcher_expire(dispatcher), platforms=served)
    housekeeping = Housekeeping(
        rt.db,
        rt.work_root,
        event_retention=dt.timedelta(days=settings.event_retention_days),
        cache_retention=dt.timedelta(days=settings.cache_retention_days),
        work_retention=dt.timedelta(days=settings.work_retention_days),
    )
    return SchedulingService(
        scheduler,
        timeouts=timeouts,
        housekeeping=housekeeping,
        file_schedules=rt.catalog.file_schedules(),
        sync_seconds=settings.schedule_sync_seconds,
        timeouts_seconds=settings.timeouts_check_seconds,
        housekeeping_seconds=settings.housekeeping_seconds,
    )
