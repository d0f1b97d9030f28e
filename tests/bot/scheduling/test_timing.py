"""When schedules fire: crontab fields as people write them, intervals, time zones and daylight saving."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest

from bot.errors import ScheduleError
from bot.scheduling import Timing, format_duration, parse_duration
from bot.scheduling.timing import latest_due, next_fire

PARIS = ZoneInfo("Europe/Paris")
CREATED = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)  # type: ignore[misc]


def fires(timing: Timing, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    trigger = timing.trigger(CREATED)
    found, last = [], None
    now = start
    while (fire := next_fire(trigger, last, CREATED, now)) is not None and fire <= end:
        found.append(fire)
        last = now = fire
    return found


def test_weekday_numbers_are_crontab_ones_sunday_is_0_and_7() -> None:
    # APScheduler 3 alone would read 1-5 as Tuesday to Saturday.
    week = fires(Timing.parse("0 9 * * 1-5", "UTC"), utc(2026, 3, 1), utc(2026, 3, 8))
    assert [f.strftime("%a %H:%M") for f in week] == [f"{d} 09:00" for d in ("Mon", "Tue", "Wed", "Thu", "Fri")]
    weekend = Timing.parse("0 9 * * 0,6", "UTC")
    assert fires(Timing.parse("0 9 * * sat,7"), utc(2026, 3, 1), utc(2026, 3, 9)) == fires(
        weekend, utc(2026, 3, 1), utc(2026, 3, 9)
    )
    days = fires(weekend, utc(2026, 3, 1), utc(2026, 3, 8, 23))
    assert [f.strftime("%a %d") for f in days] == ["Sun 01", "Sat 07", "Sun 08"]
    every_other = fires(Timing.parse("0 9 * * */2"), utc(2026, 3, 1), utc(2026, 3, 7))
    assert [f.strftime("%a") for f in every_other] == ["Sun", "Tue", "Thu"]


def test_a_cron_schedule_keeps_its_local_time_across_both_daylight_saving_changes() -> None:
    standup = Timing.parse("0 9 * * 1-5", "Europe/Paris")
    # Summer time starts on Sunday 29 March 2026 and ends on Sunday 25 October 2026 in Paris.
    spring = fires(standup, utc(2026, 3, 26), utc(2026, 4, 1, 23))
    autumn = fires(standup, utc(2026, 10, 22), utc(2026, 10, 27, 23))
    for found in (spring, autumn):
        assert {f.astimezone(PARIS).strftime("%H:%M") for f in found} == {"09:00"}
    assert [(f.day, f.astimezone(dt.UTC).hour) for f in spring] == [(26, 8), (27, 8), (30, 7), (31, 7), (1, 7)]
    assert [(f.day, f.astimezone(dt.UTC).hour) for f in autumn] == [(22, 7), (23, 7), (26, 8), (27, 8)]


def test_an_interval_counts_real_time_across_daylight_saving() -> None:
    every = Timing.parse("every 6h", "Europe/Paris")
    found = fires(every, utc(2026, 3, 28, 12), utc(2026, 3, 30, 0))
    gaps = {b - a for a, b in itertools.pairwise(found)}
    assert gaps == {dt.timedelta(hours=6)}
    assert found[0] == utc(2026, 3, 28, 18)  # counted from the schedule's creation, after the start


def test_missed_fires_coalesce_into_the_latest() -> None:
    trigger = Timing.parse("0 9 * * *", "UTC").trigger(CREATED)
    last = utc(2026, 3, 2, 9)
    now = utc(2026, 3, 5, 10)
    assert latest_due(trigger, last, CREATED, now) == utc(2026, 3, 5, 9)
    assert latest_due(trigger, utc(2026, 3, 5, 9), CREATED, now) is None


@pytest.mark.parametrize(
    ("when", "zone", "expected"),
    [
        ("0 9 * *", "UTC", "needs five fields|five fields"),
        ("0 25 * * *", "UTC", "not a valid cron expression"),
        ("0 9 * * 1-9", "UTC", "'9' is not a day of the week"),
        ("0 9 * * 5-1", "UTC", "from the earlier day to the later one"),
        ("0 9 * * 1-5", "Mars/Olympus", "unknown time zone 'Mars/Olympus': use an IANA name such as Europe/Paris"),
        ("every 30", "UTC", "'30' is not a duration: write a number and a unit"),
        ("every 10s", "UTC", "too often: the shortest is every 1m"),
    ],
)
def test_bad_timings_say_what_is_wrong_and_how_to_write_them(when: str, zone: str, expected: str) -> None:
    with pytest.raises(ScheduleError, match=expected):
        Timing.parse(when, zone)


def test_durations_read_and_print_alike() -> None:
    assert parse_duration("1h30m") == 5400
    assert parse_duration("2d") == 172800
    assert format_duration(5400) == "1h30m"
    assert Timing.parse("every 90m").describe() == "every 1h30m"
    assert Timing.parse("0  9 * * 1-5", "Europe/Paris").describe() == "0 9 * * 1-5 (Europe/Paris)"
