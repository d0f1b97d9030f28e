"""When a schedule fires: a crontab expression or an interval, in a time zone, on APScheduler's triggers.

Crontab's day-of-week numbers are the standard ones (0 or 7 is Sunday, 1 is Monday).
APScheduler 3 counts them from Monday instead (its ``from_crontab`` says so), so the field is
translated to day names before APScheduler sees it: ``0 9 * * 1-5`` is 09:00 Monday to Friday.

Every process computes the same fire times from the same row: a cron trigger depends on the
expression and the zone alone, an interval on the schedule's creation time.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ..errors import ScheduleError

__all__ = ["Timing", "check_timezone", "format_duration", "latest_due", "next_fire", "parse_duration"]

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+)([smhd])")
_CRON_HELP = (
    "write five fields, minute hour day-of-month month day-of-week, e.g. '0 9 * * 1-5' (09:00 Monday to Friday)"
)
MIN_INTERVAL = 60  # seconds: a schedule is for team runs, not for polling


def parse_duration(text: str) -> int:
    """``30m``, ``2h``, ``1h30m``, ``1d``, ``90s`` in seconds.

    Raises:
        ScheduleError: not a duration (the message shows how to write one).
    """
    compact = str(text).strip().lower().replace(" ", "")
    if not compact or _DURATION.sub("", compact):
        raise ScheduleError(f"{text!r} is not a duration: write a number and a unit, e.g. 30m, 2h, 1h30m or 1d")
    return sum(int(number) * _UNITS[unit] for number, unit in _DURATION.findall(compact))


def format_duration(seconds: int) -> str:
    """``5400`` as ``1h30m``."""
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


def check_timezone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``.

    Raises:
        ScheduleError: no such zone.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Paris, America/New_York or UTC"
        ) from None


def _day(token: str) -> int:
    if token.isdigit() and int(token) <= 7:
        return int(token)
    if token[:3] in _DAYS and len(token) >= 3:
        return _DAYS.index(token[:3])
    raise ValueError(f"{token!r} is not a day of the week (0-7, 0 and 7 are Sunday, or sun..sat)")


def _day_of_week(field: str) -> str:
    """A standard crontab day-of-week field as APScheduler day names (``1-5`` -> ``mon,...,fri``)."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        body, slash, step_text = part.partition("/")
        if slash and not (step_text.isdigit() and int(step_text) > 0):
            raise ValueError(f"{part!r}: a step is a positive number")
        step = int(step_text) if slash else 1
        if body == "*":
            low, high = 0, 6
        elif "-" in body:
            first, last = body.split("-", 1)
            low, high = _day(first), _day(last)
        else:
            low = _day(body)
            high = 6 if slash else low
        if low > high:
            raise ValueError(f"{part!r}: a range goes from the earlier day to the later one")
        days.update(day % 7 for day in range(low, high + 1, step))
    return ",".join(_DAYS[day] for day in sorted(days))


@dataclass(frozen=True, slots=True)
class Timing:
    """When a schedule fires: ``cron`` or ``every_seconds``, in ``timezone``."""

    cron: str | None = None
    every_seconds: int | None = None
    timezone: str = "UTC"

    @classmethod
    def parse(cls, when: str, timezone: str = "UTC") -> Timing:
        """``0 9 * * 1-5`` (a crontab expression) or ``every 30m``, checked.

        Raises:
            ScheduleError: malformed, or an unknown time zone.
        """
        text = when.strip()
        if text.lower().startswith("every"):
            timing = cls(every_seconds=parse_duration(text[5:].strip()), timezone=timezone)
        else:
            timing = cls(cron=" ".join(text.split()), timezone=timezone)
        timing.check()
        return timing

    def check(self) -> None:
        """Raises ScheduleError when this timing cannot work (the message says how to write it)."""
        if (self.cron is None) == (self.every_seconds is None):
            raise ScheduleError("give either a cron expression (cron: '0 9 * * 1-5') or an interval (every: 30m)")
        if self.every_seconds is not None and self.every_seconds < MIN_INTERVAL:
            raise ScheduleError(f"every {format_duration(self.every_seconds)} is too often: the shortest is every 1m")
        self.trigger(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))

    def trigger(self, created_at: dt.datetime) -> BaseTrigger:
        """APScheduler's trigger for this timing (an interval counts from ``created_at``).

        Raises:
            ScheduleError: see :meth:`check`.
        """
        zone = check_timezone(self.timezone)
        if self.every_seconds is not None:
            first = created_at + dt.timedelta(seconds=self.every_seconds)
            return IntervalTrigger(seconds=self.every_seconds, start_date=first, timezone=zone)
        fields = (self.cron or "").split()
        if len(fields) != 5:
            raise ScheduleError(f"{self.cron!r} is not a cron expression: {_CRON_HELP}")
        minute, hour, day, month, day_of_week = fields
        try:
            return CronTrigger(
                minute=minute, hour=hour, day=day, month=month, day_of_week=_day_of_week(day_of_week), timezone=zone
            )
        except ValueError as exc:
            raise ScheduleError(f"{self.cron!r} is not a valid cron expression ({exc}); {_CRON_HELP}") from None

    def describe(self) -> str:
        """How people read it: ``0 9 * * 1-5 (Europe/Paris)`` or ``every 30m``."""
        if self.every_seconds is not None:
            return f"every {format_duration(self.every_seconds)}"
        return f"{self.cron} ({self.timezone})"


def _utc(fire: dt.datetime | None) -> dt.datetime | None:
    # Aware datetimes that share a zone compare by wall clock (an autumn hour happens twice):
    # fire times are compared in UTC only.
    return fire.astimezone(dt.UTC) if fire is not None else None


def latest_due(
    trigger: BaseTrigger, last: dt.datetime | None, created_at: dt.datetime, now: dt.datetime
) -> dt.datetime | None:
    """The latest fire time after ``last`` (or from ``created_at``) and no later than ``now``, or None (UTC).

    Fire times missed in between are passed over: they coalesce into this one.
    """
    fire = _utc(
        trigger.get_next_fire_time(last, last) if last is not None else trigger.get_next_fire_time(None, created_at)
    )
    latest = None
    while fire is not None and fire <= now:
        latest = fire
        fire = _utc(trigger.get_next_fire_time(fire, fire))
    return latest


def next_fire(
    trigger: BaseTrigger, last: dt.datetime | None, created_at: dt.datetime, now: dt.datetime
) -> dt.datetime | None:
    """The first fire time after ``now`` (and after ``last``), or None when the trigger has no more (UTC)."""
    start = max(now, last or created_at)
    fire = _utc(trigger.get_next_fire_time(None, start))
    while fire is not None and fire <= start:
        fire = _utc(trigger.get_next_fire_time(fire, fire))
    return fire
