"""Whether the bot can start threads in schedules' channels, asked from the command line
(``threadcrew schedules add``, ``threadcrew teams validate --online``).

A running bot asks the platform it serves (see ``bot/commands.py``); here each platform is built
from the settings just for the question. A platform whose settings are missing (no token) cannot
be asked: its schedules are reported as not checked, never refused for that.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from adapters import ChatPlatform
from storage import Database, NewSchedule

from ..discord import discord_platform
from ..errors import BotError
from ..settings import Settings
from ..slack import slack_platform

__all__ = ["ChannelReport", "check_schedule_channels"]

# The platforms that can be asked; the others (console, memory) take every channel.
_ASKED: dict[str, Callable[[Settings, Database], ChatPlatform]] = {"slack": slack_platform, "discord": discord_platform}


@dataclass(frozen=True, slots=True)
class ChannelReport:
    """What the platforms said of the schedules' channels: refusals, and what could not be checked."""

    refused: list[tuple[NewSchedule, str]]
    unchecked: list[tuple[NewSchedule, str]]


async def check_schedule_channels(settings: Settings, db: Database, schedules: Sequence[NewSchedule]) -> ChannelReport:
    """Ask each schedule's platform whether the bot can post in its channel (each platform built once)."""
    report = ChannelReport([], [])
    platforms: dict[str, ChatPlatform | str] = {}
    try:
        for schedule in schedules:
            name = schedule.platform
            if name not in _ASKED:
                continue
            if name not in platforms:
                try:
                    platforms[name] = _ASKED[name](settings, db)
                except BotError as exc:
                    platforms[name] = f"the {name} settings are not complete ({exc})"
            platform = platforms[name]
            if isinstance(platform, str):
                report.unchecked.append((schedule, platform))
                continue
            access = await platform.can_post_in(schedule.workspace_id, schedule.channel_id)
            if access.allowed is None:
                report.unchecked.append((schedule, access.reason))
            elif not access.allowed:
                report.refused.append((schedule, access.reason))
    finally:
        for platform in platforms.values():
            if not isinstance(platform, str):
                await platform.close()
    return report
