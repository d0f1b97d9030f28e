"""The AsyncIOScheduler side: one job per schedule on the schedule's own trigger, following the table."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.scheduling import Scheduler
from bot.scheduling.service import SchedulingService
from storage import Database, NewSchedule, ScheduleRecord

PARIS = ZoneInfo("Europe/Paris")


async def test_jobs_follow_the_table_and_the_team_files_schedules_are_written_at_start(db: Database) -> None:
    started: list[str] = []

    async def start(schedule: ScheduleRecord, at: dt.datetime) -> None:
        started.append(schedule.name)

    file_schedule = NewSchedule("crew-1", "crew", "slack", "", "C1", "hi", cron="0 9 * * 1-5", timezone="Europe/Paris")
    scheduler = Scheduler(db, start, platforms={"slack"})
    other = await db.stores.schedules.add(
        "elsewhere", team="crew", platform="discord", workspace_id="", channel_id="D1", every_seconds=3600, message="?"
    )
    async with SchedulingService(scheduler, file_schedules={"crew": [file_schedule]}) as service:
        row = await db.stores.schedules.get("crew-1")
        jobs = {job.id: job for job in service.aps.get_jobs()}
        assert set(jobs) == {"sync", f"schedule:{row.id}"}  # not the other platform's
        assert other.id not in {int(j.split(":")[1]) for j in jobs if j.startswith("schedule:")}
        planned = jobs[f"schedule:{row.id}"].next_run_time
        # APScheduler wakes up on the machine's clock (the database's, in production): the same next fire.
        assert planned == scheduler.next_fire(row, dt.datetime.now(dt.UTC))
        assert planned.astimezone(PARIS).strftime("%H:%M") == "09:00"

        added = await db.stores.schedules.add(
            "digest", team="crew", platform="slack", workspace_id="", channel_id="C1", every_seconds=7200, message="?"
        )
        await db.stores.schedules.set_enabled("crew-1", False)
        await service.sync()
        assert {job.id for job in service.aps.get_jobs()} == {"sync", f"schedule:{added.id}"}
    assert started == []  # nothing was due
