"""Adding, listing, pausing and deleting schedules: the rules the chat command and the CLI share.

In chat (``/threadcrew schedule ...``, or ``@threadcrew schedule ...`` in a channel or a thread),
``schedule add`` reads::

    schedule add "0 9 * * 1-5" [tz=Europe/Paris] [team=NAME] NAME CHANNEL MESSAGE...
    schedule add every 30m [team=NAME] NAME CHANNEL MESSAGE...

CHANNEL is a channel link (``<#C123|eng>``, what Slack sends for ``#eng``), a channel id, or
``here``. The team is the channel's team unless ``team=`` names another.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from dataclasses import dataclass

from adapters import ChatPlatform
from storage import ConflictError, Database, NotFoundError, ScheduleRecord

from ..errors import ScheduleError
from .scheduler import timing_of
from .timing import Timing, check_timezone, next_fire

__all__ = [
    "ADD_USAGE",
    "AddRequest",
    "add_schedule",
    "check_channel",
    "check_name",
    "describe",
    "parse_add",
    "set_schedule",
    "split_command",
]

ADD_USAGE = (
    'schedule add "0 9 * * 1-5" [tz=Europe/Paris] [team=NAME] NAME #channel MESSAGE (or: schedule add every 30m ...)'
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_CHANNEL_LINK = re.compile(r"<#([A-Z0-9]+)(?:\|[^>]*)?>")
_PLAIN_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})  # chat apps curl them
_CHANNEL_ID = re.compile(r"[A-Z0-9]{2,}|\d+")


@dataclass(frozen=True, slots=True)
class AddRequest:
    """A schedule to add, as typed: ``channel`` is an id, or None for the channel it was typed in;
    ``team`` None is the channel's team."""

    name: str
    timing: Timing
    channel: str | None
    message: str
    team: str | None = None


def parse_add(text: str) -> AddRequest:
    """The words after ``schedule add``.

    Raises:
        ScheduleError: they do not read as a schedule (the message shows how to write one).
    """
    try:
        words = shlex.split(text.translate(_PLAIN_QUOTES))
    except ValueError:
        raise ScheduleError(f"a quote is not closed; write {ADD_USAGE}") from None
    if len(words) >= 2 and words[0].lower() == "every":
        when, rest = f"every {words[1]}", words[2:]
    elif words and " " in words[0].strip():  # a quoted cron expression
        when, rest = words[0], words[1:]
    else:
        raise ScheduleError(f"say when first, as a quoted cron expression or `every 30m`: {ADD_USAGE}")
    options = {"tz": "UTC", "team": None}
    while rest and "=" in rest[0] and rest[0].split("=", 1)[0].lower() in options:
        key, value = rest[0].split("=", 1)
        options[key.lower()], rest = value, rest[1:]
    timezone, team = options["tz"] or "UTC", options["team"]
    if len(rest) < 3:
        raise ScheduleError(f"give a name, a channel and the message: {ADD_USAGE}")
    name, channel_word, message = rest[0], rest[1], " ".join(rest[2:])
    return AddRequest(check_name(name), Timing.parse(when, timezone), _channel(channel_word), message, team)


def check_name(name: str) -> str:
    """Raises ScheduleError unless ``name`` is a word of letters, digits, ``-``, ``_`` and ``.``."""
    if not _NAME.fullmatch(name):
        raise ScheduleError(
            f"{name!r} is not a schedule name: use letters, digits, '-', '_' or '.' (up to 64), e.g. standup"
        )
    return name


def _channel(word: str) -> str | None:
    if word.lower() in ("here", "#here"):
        return None
    if link := _CHANNEL_LINK.fullmatch(word):
        return link.group(1)
    if _CHANNEL_ID.fullmatch(word):
        return word
    raise ScheduleError(
        f"{word!r} is not a channel I can find: type # and pick the channel from the list, give its id (C123), "
        "or write `here`"
    )


async def check_channel(platform: ChatPlatform, workspace_id: str, channel_id: str) -> str:
    """Refuse a channel the bot cannot start threads in; returns why it could not tell, or "".

    Raises:
        ScheduleError: the platform says the bot cannot post there (the message says what to do).
    """
    access = await platform.can_post_in(workspace_id, channel_id)
    if access.allowed is False:
        raise ScheduleError(access.reason)
    return "" if access.allowed else f"not checked: {access.reason}"


async def add_schedule(
    db: Database,
    *,
    name: str,
    timing: Timing,
    team: str,
    platform: str,
    workspace_id: str,
    channel_id: str,
    message: str,
    source: str,
) -> ScheduleRecord:
    """Add a checked schedule.

    Raises:
        ScheduleError: the name is taken (the message says what to do).
    """
    timing.check()
    try:
        return await db.stores.schedules.add(
            check_name(name),
            team=team,
            platform=platform,
            workspace_id=workspace_id,
            channel_id=channel_id,
            message=message,
            cron=timing.cron,
            every_seconds=timing.every_seconds,
            timezone=timing.timezone,
            source=source,
        )
    except ConflictError:
        raise ScheduleError(
            f"a schedule named {name!r} exists already: pick another name, or delete that one first"
        ) from None


async def set_schedule(db: Database, name: str, action: str) -> str:
    """``pause``, ``resume`` or ``delete`` the schedule ``name``; returns what was done, in words.

    Raises:
        ScheduleError: no such schedule, or no such action.
    """
    stores = db.stores.schedules
    try:
        if action == "delete":
            await stores.remove(name)
            return f"Deleted the schedule {name}."
        if action in ("pause", "resume"):
            await stores.set_enabled(name, action == "resume")
            return f"{'Resumed' if action == 'resume' else 'Paused'} the schedule {name}."
    except NotFoundError:
        raise ScheduleError(f"there is no schedule named {name!r}; `schedule list` shows them") from None
    raise ScheduleError(f"there is no `{action}` for schedules: use add, list, pause, resume or delete")


def describe(schedule: ScheduleRecord, now: dt.datetime | None = None) -> str:
    """One line: name, state, when, the team, where, the next fire (after ``now``, if given), the message."""
    state = "on" if schedule.enabled else "paused"
    upcoming = ""
    if now is not None and schedule.enabled:
        trigger = timing_of(schedule).trigger(schedule.created_at)
        fire = next_fire(trigger, schedule.last_run_at, schedule.created_at, now)
        local = fire.astimezone(check_timezone(schedule.timezone)) if fire is not None else None
        upcoming = f", next {local:%Y-%m-%d %H:%M %Z}" if local is not None else ", no more runs"
    return (
        f"{schedule.name} ({state}): {timing_of(schedule).describe()}, team {schedule.team}, "
        f"in {schedule.platform} {schedule.channel_id}{upcoming}: {schedule.message}"
    )


_SAID = re.compile(r"\s*schedule\s+((?:add|list|pause|resume|delete)\b.*)", re.IGNORECASE | re.DOTALL)


def schedule_words(text: str) -> str | None:
    """What follows ``schedule`` in a message to the bot (``schedule add ...``), or None if it is not that."""
    said = _SAID.fullmatch(text)
    return said.group(1).strip() if said else None


def split_command(text: str) -> tuple[str, str]:
    """``add "0 9 * * *" ...`` as (``add``, the rest); ``list`` by default."""
    action, _, rest = text.strip().partition(" ")
    return (action.lower() or "list"), rest.strip()
