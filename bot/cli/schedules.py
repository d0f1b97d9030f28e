"""``threadcrew schedules``: scheduled team runs, listed, added, paused, resumed and deleted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from storage import NewSchedule

from ..errors import BotError
from ..scheduling import Timing
from ..scheduling.config import KNOWN_PLATFORMS
from ..scheduling.manage import add_schedule, describe, set_schedule
from ._shared import check_channels, fail, load_settings, teams_to_serve, with_database

__all__ = ["app"]

app = typer.Typer(help="Scheduled team runs (the README's Scheduling section).", no_args_is_help=True)


@app.command("list")
def schedules_list() -> None:
    """Every schedule: its state, when it fires, its team and channel, its next run, its message."""
    records = with_database(lambda db: db.stores.schedules.list())
    if not records:
        typer.echo("no schedules")
    now = dt.datetime.now(dt.UTC)
    for record in records:
        typer.echo(describe(record, now))


@app.command("add")
def schedules_add(
    name: Annotated[str, typer.Argument(help="The schedule's name (letters, digits, -, _ and .).")],
    message: Annotated[str, typer.Argument(help="The message each run starts with.")],
    cron: Annotated[str | None, typer.Option(help="When, as a crontab expression: '0 9 * * 1-5'.")] = None,
    every: Annotated[str | None, typer.Option(help="Or how often: 30m, 2h, 1d.")] = None,
    timezone: Annotated[str, typer.Option(help="The cron expression's time zone (IANA: Europe/Paris).")] = "UTC",
    platform: Annotated[str, typer.Option(help="Where: slack, discord.")] = "slack",
    channel: Annotated[str, typer.Option(help="The channel's id (C123).")] = "",
    workspace: Annotated[str, typer.Option(help="The workspace (Slack team id); empty: the bot's own.")] = "",
    team: Annotated[str | None, typer.Option(help="The team's name (default: the default team).")] = None,
    team_file: Annotated[
        Path | None, typer.Option("--team-file", help="The team file (default: THREADCREW_TEAM, else the demo team).")
    ] = None,
) -> None:
    """Add a schedule; the running bots pick it up within THREADCREW_SCHEDULE_SYNC_SECONDS."""
    if (cron is None) == (every is None):
        raise fail("say when: --cron '0 9 * * 1-5' or --every 30m (one of the two)", 2)
    if not channel:
        raise fail("name the channel the runs open their threads in: --channel C123", 2)
    if platform not in KNOWN_PLATFORMS:
        raise fail(f"unknown platform {platform!r}: use one of {', '.join(KNOWN_PLATFORMS)}", 2)
    try:
        timing = Timing.parse(cron if cron is not None else f"every {every}", timezone)
        team_name = teams_to_serve(team_file or load_settings().team)[0].check(team)
    except BotError as exc:
        raise fail(str(exc), 2) from exc
    new = NewSchedule(
        name, team_name, platform, workspace, channel, message, timing.cron, timing.every_seconds, timezone
    )
    check_channels([new])
    added = with_database(
        lambda db: add_schedule(
            db,
            name=name,
            timing=timing,
            team=team_name,
            platform=platform,
            workspace_id=workspace,
            channel_id=channel,
            message=message,
            source="cli",
        )
    )
    typer.echo(f"added {describe(added, dt.datetime.now(dt.UTC))}")


@app.command("delete")
def schedules_delete(name: str) -> None:
    """Delete a schedule (a team file's comes back at the next start while the file has it)."""
    typer.echo(with_database(lambda db: set_schedule(db, name, "delete")))


@app.command("pause")
def schedules_pause(name: str) -> None:
    """Pause a schedule: it does not fire until resumed (a pause holds over restarts)."""
    typer.echo(with_database(lambda db: set_schedule(db, name, "pause")))


@app.command("resume")
def schedules_resume(name: str) -> None:
    """Resume a paused schedule: a fire missed within the misfire grace still runs."""
    typer.echo(with_database(lambda db: set_schedule(db, name, "resume")))
