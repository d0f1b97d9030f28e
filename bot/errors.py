"""The errors of the wiring.

BotError
├── TeamConfigError (ValueError)   a team file or team name that cannot work; names file, key and fix
├── ScheduleError (ValueError)     a schedule that cannot work (a malformed cron, an unknown time zone...)
└── StartupError                   the bot cannot start (database behind, platform misconfigured)
"""

from __future__ import annotations

__all__ = ["BotError", "ScheduleError", "StartupError", "TeamConfigError"]


class BotError(Exception):
    """The root of every error bot/ raises on purpose."""


class TeamConfigError(BotError, ValueError):
    """A team cannot be built as configured; the message names the file, the key and the fix."""


class StartupError(BotError):
    """The bot cannot start; the message says what to do."""


class ScheduleError(BotError, ValueError):
    """A schedule cannot work as given; the message says what is wrong and how to write it."""
