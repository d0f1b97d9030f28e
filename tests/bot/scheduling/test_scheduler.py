"""Scheduled runs on a fake clock: local fire times across daylight saving, coalesced misfires,
restarts, pauses, and several scheduler processes on one database firing each run once."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from adapters import InMemoryPlatform, OutboundMessage, Persona
from bot.scheduling import Scheduler
from storage import Database, ScheduleRecord
from tests.bot.scheduling.conftest import FakeClock

PARIS = ZoneInfo("Europe/Paris")


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)  # type: ignore[misc]


class Threads:
    """A start function that opens a thread on the in-memory platform for each fire (as a run does)."""

    def __init__(self, platform: InMemoryPlatform | None = None) -> None:
        self.platform = platform or InMemoryPlatform()
        self.fired: list[tuple[str, dt.datetime]] = []

    async def __call__(self, schedule: ScheduleRecord, at: dt.datetime) -> None:
        message = OutboundMessage(Persona("threadcrew"), f"{schedule.name} at {at.isoformat()}")
        await self.platform.open_thread(schedule.workspace_id, schedule.channel_id, message)
        self.fired.append((schedule.name, at))

    @property
    def opened(self) -> list[str]:
        return [p.text for p in self.platform.posts]


async def add(db: Database, name: str = "standup", **timing: object) -> ScheduleRecord:
    fields: dict[str, object] = {"cron": "0 9 * * 1-5", "timezone": "Europe/Paris", **timing}
    return await db.stores.schedules.add(
        name, team="crew", platform="memory", workspace_id="W1", channel_id="C1", message="Summarise", **fields
    )


async def walk(scheduler: Scheduler, start: dt.datetime, end: dt.datetime, step: dt.timedelta) -> None:
    now = start
    while now <= end:
        await scheduler.run_due(now)
        now += step


async def test_a_weekday_schedule_fires_at_nine_paris_time_across_both_daylight_saving_changes(
    db: Database, clock: FakeClock
) -> None:
    clock.now = utc(2026, 3, 25, 12)
    await add(db)
    threads = Threads()
    scheduler = Scheduler(db, threads)
    await walk(scheduler, clock.now, utc(2026, 4, 1, 23), dt.timedelta(minutes=30))
    # The bot was off all summer: the fires it missed are passed over (Wednesday 21's too, 3 h late).
    await walk(scheduler, utc(2026, 10, 21, 10), utc(2026, 10, 27, 23), dt.timedelta(minutes=30))

    local = [at.astimezone(PARIS) for _, at in threads.fired]
    assert {t.strftime("%H:%M") for t in local} == {"09:00"}
    assert [t.strftime("%a %d %b") for t in local] == [
        "Thu 26 Mar", "Fri 27 Mar", "Mon 30 Mar", "Tue 31 Mar", "Wed 01 Apr",  # summer time from Sun 29 Mar
        "Thu 22 Oct", "Fri 23 Oct", "Mon 26 Oct", "Tue 27 Oct",  # winter time from Sun 25 Oct
    ]  # fmt: skip
    assert [at.hour for _, at in threads.fired] == [8, 8, 7, 7, 7, 7, 7, 8, 8]  # in UTC
    assert len(threads.opened) == 9


async def test_missed_fires_coalesce_into_one_run_within_the_grace_and_none_after(
    db: Database, clock: FakeClock
) -> None:
    clock.now = utc(2026, 3, 2, 6)  # a Monday
    await add(db, cron="0 9 * * *", timezone="UTC")
    threads = Threads()
    scheduler = Scheduler(db, threads, misfire_grace=dt.timedelta(hours=1))

    # Down from before Monday's fire until Wednesday 09:40: one run, for Wednesday 09:00.
    assert [f.at for f in await scheduler.run_due(utc(2026, 3, 4, 9, 40))] == [utc(2026, 3, 4, 9)]
    assert await scheduler.run_due(utc(2026, 3, 4, 9, 50)) == []
    # Down again until Thursday 10:30, more than the grace after its fire: no run; Friday runs.
    assert await scheduler.run_due(utc(2026, 3, 5, 10, 30)) == []
    assert [f.at for f in await scheduler.run_due(utc(2026, 3, 6, 9, 0))] == [utc(2026, 3, 6, 9)]
    assert threads.fired == [("standup", utc(2026, 3, 4, 9)), ("standup", utc(2026, 3, 6, 9))]


async def test_a_restarted_scheduler_goes_on_from_the_table_and_pauses_hold(db: Database, clock: FakeClock) -> None:
    clock.now = utc(2026, 3, 2, 6)
    await add(db, "digest", cron=None, every_seconds=1800, timezone="UTC")
    first = Threads()
    await Scheduler(db, first).run_due(utc(2026, 3, 2, 6, 30))
    # A new process (a restart): the fire at 06:30 ran; the next is 07:00.
    second = Threads()
    restarted = Scheduler(db, second)
    assert await restarted.run_due(utc(2026, 3, 2, 6, 45)) == []
    assert [f.at for f in await restarted.run_due(utc(2026, 3, 2, 7))] == [utc(2026, 3, 2, 7)]
    await db.stores.schedules.set_enabled("digest", False)
    assert await restarted.run_due(utc(2026, 3, 2, 7, 30)) == []
    await db.stores.schedules.set_enabled("digest", True)
    assert [f.at for f in await restarted.run_due(utc(2026, 3, 2, 8))] == [utc(2026, 3, 2, 8)]
    assert [name for name, _ in first.fired + second.fired] == ["digest"] * 3


async def test_a_run_that_fails_to_start_spends_its_fire_and_others_still_run(db: Database, clock: FakeClock) -> None:
    clock.now = utc(2026, 3, 2, 6)
    await add(db, "broken", cron="0 9 * * *", timezone="UTC")
    await add(db, "fine", cron="0 9 * * *", timezone="UTC")
    threads = Threads()

    async def start(schedule: ScheduleRecord, at: dt.datetime) -> None:
        if schedule.name == "broken":
            raise RuntimeError("the channel is gone")
        await threads(schedule, at)

    assert [f.schedule.name for f in await Scheduler(db, start).run_due(utc(2026, 3, 2, 9))] == ["fine"]
    assert await Scheduler(db, start).run_due(utc(2026, 3, 2, 9, 1)) == []


async def wake_together(schedulers: list[Scheduler], now: dt.datetime, turn: int) -> None:
    """Every scheduler runs what is due at ``now`` at once, a different one starting first each
    turn (the first to ask tends to win the claim: in a fixed order one process could win them all)."""
    first = turn % len(schedulers)
    await asyncio.gather(*(s.run_due(now) for s in schedulers[first:] + schedulers[:first]))


@pytest.mark.parametrize("processes", [2, 3])
async def test_several_schedulers_on_one_postgresql_run_each_fire_once(
    processes: int, postgres_template: str, clock: FakeClock
) -> None:
    from tests.storage.conftest import scratch_postgres

    with scratch_postgres(template=postgres_template) as url:
        databases = [Database(url, clock=clock) for _ in range(processes)]
        try:
            clock.now = utc(2026, 3, 2, 6)
            await add(databases[0], "standup", cron="0 9 * * *", timezone="Europe/Paris")
            await add(databases[0], "digest", cron=None, every_seconds=3600, timezone="UTC")
            platform = InMemoryPlatform()
            threads = [Threads(platform) for _ in databases]
            schedulers = [Scheduler(db, t) for db, t in zip(databases, threads, strict=True)]

            now = clock.now
            for turn in range(48):  # a day in half hours, every process waking at the same moments
                now += dt.timedelta(minutes=30)
                await wake_together(schedulers, now, turn)
            # One process goes down; the others fire its schedules for another day.
            for turn in range(48):
                now += dt.timedelta(minutes=30)
                await wake_together(schedulers[1:], now, turn)
        finally:
            for db in databases:
                await db.close()

    fired = sorted(f for t in threads for f in t.fired)
    assert len(fired) == len(set(fired))  # no fire ran twice
    assert [at for name, at in fired if name == "standup"] == [
        utc(2026, 3, day, 8)
        for day in (2, 3)  # 09:00 in Paris, winter time
    ]
    assert len([1 for name, _ in fired if name == "digest"]) == 48  # hourly, for two days
    assert len(platform.posts) == 50  # one thread opened per fire
    assert all(t.fired for t in threads[1:])
