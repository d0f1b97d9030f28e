"""The ``threadcrew`` command: one module per command group, assembled here into one Typer app.

``running`` holds the top-level commands (run, start, demo); ``db``, ``teams``, ``transcripts``,
``waits``, ``schedules`` and ``discord`` each hold one group. What more than one group needs is
in ``_shared``. The package imports the rest of ``bot/`` and, like it, the other layers.
"""

from __future__ import annotations

import typer
from pydantic import ValidationError

from ..logs import configure_logging
from ..settings import Settings
from . import db, discord, running, schedules, teams, transcripts, waits

__all__ = ["app", "main"]

app = typer.Typer(help="Multi-agent conversations in chat threads.", no_args_is_help=True, add_completion=False)
app.add_typer(running.app)  # without a name: run, start and demo are top-level commands
app.add_typer(db.app, name="db")
app.add_typer(teams.app, name="teams")
app.add_typer(transcripts.app, name="transcript")
app.add_typer(waits.app, name="waits")
app.add_typer(schedules.app, name="schedules")
app.add_typer(discord.app, name="discord")


def main() -> None:
    """The console script: logging configured from the settings, then the command."""
    try:
        settings: Settings | None = Settings()
    except ValidationError:
        settings = None  # the command says what is wrong
    configure_logging(settings)
    app()
