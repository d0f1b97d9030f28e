"""``threadcrew teams``: team files checked as the bot checks them at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import BotError
from ..teams import TeamCatalog
from ._shared import check_channels, fail

__all__ = ["app"]

app = typer.Typer(help="Team files.", no_args_is_help=True)


@app.command("validate")
def teams_validate(
    file: Path,
    online: Annotated[
        bool,
        typer.Option(
            "--online", help="Also ask Slack and Discord whether the bot can post in each schedule's channel."
        ),
    ] = False,
) -> None:
    """Check a team file as the bot does at start-up: its settings, models, tools, agents and schedules.

    Offline (no network) unless --online: then each schedule's channel is checked with the platform
    whose token the environment gives (a platform without one is reported as not checked).
    """
    try:
        config = TeamCatalog().add_file(file)
    except BotError as exc:
        raise fail(str(exc)) from exc
    schedules = [s.to_new(config.name, i) for i, s in enumerate(config.schedules)]
    if online and schedules:
        check_channels(schedules, where=f"{file}: ")
    agents = ", ".join(a.name for a in config.agents)
    checked = "checked" if online else "not checked (--online checks them)"
    typer.echo(
        f"{file}: team {config.name!r} is valid: agents {agents}; people as {config.human.name!r}; "
        f"models {', '.join(config.models)}; speaker selection {config.group_chat.speaker_selection}"
        + (f"; {len(schedules)} schedule(s), their channels {checked}" if schedules else "")
    )
