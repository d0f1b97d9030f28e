"""Channel commands (``/threadcrew`` on Slack and Discord): what runs in this channel, stop it, the teams,
the schedules.

A command answers the person who typed it, privately. ``stop`` reaches each thread through
the dispatcher, like a stop typed in the thread.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from adapters import ThreadEvent, ThreadRef
from storage import ACTIVE_STATUSES

from .errors import BotError
from .scheduling.manage import (
    ADD_USAGE,
    add_schedule,
    check_channel,
    describe,
    parse_add,
    set_schedule,
    split_command,
)
from .session import tell_privately

if TYPE_CHECKING:
    from .dispatcher import Dispatcher

__all__ = ["help_text", "run_channel_command"]


def help_text(command: str) -> str:
    """What the channel command does, spelt the way the platform's people type it (``command``)."""
    return (
        f"`{command} status` what runs in this channel · `{command} stop [thread]` stop it (every run here, "
        f"or the one whose thread id you give) · `{command} teams` the teams · `{command} schedule list|add|pause|"
        f"resume|delete` scheduled runs ({ADD_USAGE})"
    )


async def run_channel_command(dispatcher: Dispatcher, event: ThreadEvent) -> None:
    """Answer ``event`` (a command with no thread) in private."""
    rt = dispatcher.rt
    platform = rt.platform_for(event.thread)
    command, args = event.command or "help", event.text.split()
    if command == "status":
        text = await _status(dispatcher, event.thread)
    elif command == "stop":
        text = await _stop(dispatcher, event, args[0] if args else None)
    elif command == "teams":
        text = "\n".join(f"• *{name}*{f': {about}' if about else ''}" for name, about in rt.catalog.described())
        text = text or "No teams are configured."
    elif command == "schedules":
        text = await _schedules(dispatcher, event.thread)
    elif command == "schedule":
        text = await _schedule(dispatcher, event)
    else:
        text = "" if command == "help" else f"There is no `{command}` command. "
        text += help_text(platform.capabilities.command)
    await tell_privately(platform, event, text)


async def _status(dispatcher: Dispatcher, channel: ThreadRef) -> str:
    records = await dispatcher.rt.db.stores.conversations.in_channel(
        channel.platform, channel.workspace_id, channel.channel_id
    )
    if not records:
        return "Nothing has run in this channel yet. Mention me in a thread to start."
    lines = [
        f"• thread `{r.thread_id}`: {r.status}, {r.last_seq} messages, team {r.team}, "
        f"{r.prompt_tokens + r.completion_tokens:,} tokens"
        for r in records[:15]
    ]
    more = f"\n…and {len(records) - 15} more" if len(records) > 15 else ""
    return "Conversations in this channel, latest first:\n" + "\n".join(lines) + more


async def _stop(dispatcher: Dispatcher, event: ThreadEvent, thread_id: str | None) -> str:
    channel = event.thread
    records = await dispatcher.rt.db.stores.conversations.in_channel(
        channel.platform, channel.workspace_id, channel.channel_id, statuses=[*ACTIVE_STATUSES, "paused"]
    )
    if thread_id is not None:
        records = [r for r in records if r.thread_id == thread_id]
        if not records:
            return f"No run is going in thread `{thread_id}` of this channel (`/threadcrew status` lists them)."
    if not records:
        return "Nothing is running in this channel."
    for record in records:
        thread = dataclasses.replace(channel, thread_id=record.thread_id)
        stop = dataclasses.replace(event, thread=thread, event_key=f"{event.event_key}:{record.thread_id}")
        await dispatcher.handle(stop)
    return f"Stopping {len(records)} run{'s' if len(records) != 1 else ''} in this channel."


async def _schedules(dispatcher: Dispatcher, channel: ThreadRef) -> str:
    schedules = [
        s
        for s in await dispatcher.rt.db.stores.schedules.list()
        if (s.platform, s.workspace_id, s.channel_id) == (channel.platform, channel.workspace_id, channel.channel_id)
    ]
    if not schedules:
        return "No scheduled runs in this channel."
    now = dispatcher.rt.db.clock()
    return "\n".join(f"• {describe(s, now)}" for s in schedules)


async def _schedule(dispatcher: Dispatcher, event: ThreadEvent) -> str:
    """``schedule add|list|pause|resume|delete ...`` typed in a channel."""
    action, rest = split_command(event.text)
    channel = event.thread
    try:
        if action == "list":
            return await _schedules(dispatcher, channel)
        if action != "add":
            if not rest:
                return f"Name the schedule: `schedule {action} NAME` (`schedule list` shows them)."
            return await set_schedule(dispatcher.rt.db, rest.split()[0], action)
        request = parse_add(rest)
        team = dispatcher.rt.catalog.check(request.team or dispatcher.rt.catalog.team_for(channel))
        where = request.channel or channel.channel_id
        caveat = await check_channel(dispatcher.rt.platform_for(channel), channel.workspace_id, where)
        added = await add_schedule(
            dispatcher.rt.db,
            name=request.name,
            timing=request.timing,
            team=team,
            platform=channel.platform,
            workspace_id=channel.workspace_id,
            channel_id=where,
            message=request.message,
            source="chat",
        )
    except BotError as exc:
        return f"Not done: {exc}"
    return f"Added: {describe(added, dispatcher.rt.db.clock())}" + (f" ({caveat})" if caveat else "")
