"""What the command groups share: failing with a clear line, the settings, running a coroutine,
a database for one command, the teams to serve and the check of schedules' channels."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from pydantic import ValidationError

from adapters import AdapterError
from storage import Database, NewSchedule, StorageError

from ..demo import demo_team_config
from ..errors import BotError
from ..scheduling.channels import check_schedule_channels
from ..settings import Settings
from ..teams import TeamCatalog

__all__ = ["check_channels", "fail", "load_settings", "run_async", "teams_to_serve", "with_database"]

T = TypeVar("T")


def fail(message: str, code: int = 1) -> typer.Exit:
    """Say what is wrong on stderr; the caller raises the returned exit (``code`` 2: misuse)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment, with ``overrides`` (a command's options) applied.

    Raises:
        typer.Exit: code 2, naming each setting that is not valid.
    """
    try:
        found = Settings()
    except ValidationError as exc:
        problems = "; ".join(f"THREADCREW_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise fail(f"the environment is not a valid configuration: {problems}", 2) from None
    return found.model_copy(update=overrides) if overrides else found


def run_async(main: Callable[[], Awaitable[T]]) -> T:
    """Run ``main``, turning threadcrew's own errors into a clear message and exit code 1."""
    try:
        return asyncio.run(main())  # type: ignore[arg-type]
    except (BotError, StorageError, AdapterError) as exc:
        raise fail(str(exc)) from exc
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def with_database(work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work`` on the configured database, opened for it and closed after."""
    configured = load_settings()

    async def main() -> T:
        async with Database(configured.effective_database_url) as db:
            return await work(db)

    return run_async(main)


def teams_to_serve(team: Path | None) -> tuple[TeamCatalog, bool]:
    """The teams to serve, and whether the scripted demo model stands in for a real one."""
    teams = TeamCatalog()
    if team is not None:
        teams.add_file(team, default=True)
        return teams, False
    config, scripted = demo_team_config()
    teams.add_config(config, default=True)
    return teams, scripted


def check_channels(schedules: list[NewSchedule], *, where: str = "") -> None:
    """Refuse (exit code 2) a schedule whose channel the bot cannot post in; warn where it cannot tell."""
    report = with_database(lambda db: check_schedule_channels(load_settings(), db, schedules))
    for schedule, reason in report.unchecked:
        typer.echo(
            f"warning: {where}schedule {schedule.name}: channel {schedule.channel_id} not checked: {reason}", err=True
        )
    if report.refused:
        refused = "; ".join(f"schedule {s.name}: {reason}" for s, reason in report.refused)
        raise fail(f"{where}{refused}", 2)
