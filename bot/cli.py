"""The ``threadcrew`` command."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer

from agents import AgentError, aclose_loop_resources
from storage import Database, StorageError, current_revision, head_revision, upgrade

from .demo import run_demo
from .settings import Settings

app = typer.Typer(help="Multi-agent conversations in chat threads.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="The database: migrations and their state.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database (THREADCREW_DATABASE_URL, or SQLite in THREADCREW_DATA_DIR) to the newest schema."""

    async def main() -> tuple[str, str | None, str | None]:
        async with Database(Settings().effective_database_url) as db:
            before = await current_revision(db)
            await upgrade(db)
            return db.safe_url, before, await current_revision(db)

    try:
        where, before, after = asyncio.run(main())
    except StorageError as exc:
        raise _fail(str(exc)) from exc
    if before == after:
        typer.echo(f"{where} is at migration {after}: nothing to do")
    else:
        typer.echo(f"{where}: migrated from {before or 'an empty database'} to {after}")


@db_app.command("current")
def db_current() -> None:
    """Say which migration the database is at, and which this threadcrew needs."""

    async def main() -> tuple[str, str | None]:
        async with Database(Settings().effective_database_url) as db:
            return db.safe_url, await current_revision(db)

    try:
        where, revision = asyncio.run(main())
    except StorageError as exc:
        raise _fail(str(exc)) from exc
    head = head_revision()
    state = "up to date" if revision == head else "behind: run `threadcrew db upgrade`"
    typer.echo(f"{where}: at {revision or 'no migration (empty)'}, this threadcrew needs {head} ({state})")


def _demo(task: str | None, work_dir: Path | None) -> None:
    async def main() -> None:
        try:
            await run_demo(task, work_dir)
        finally:
            await aclose_loop_resources()

    try:
        asyncio.run(main())
    except AgentError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


@app.command()
def run(
    platform: Annotated[str, typer.Option(help="Where the thread lives; only 'console' exists so far.")] = "console",
    message: Annotated[str | None, typer.Option("--message", "-m", help="The task to start with.")] = None,
    work_dir: Annotated[Path | None, typer.Option(help="Where code runs (default: a temporary dir).")] = None,
) -> None:
    """Run threadcrew. On the console (the default), this is the two-agent demo for now."""
    if platform != "console":
        typer.echo(f"error: platform {platform!r} is not available yet; use --platform console", err=True)
        raise typer.Exit(2)
    _demo(message, work_dir)


@app.command()
def demo(
    message: Annotated[str | None, typer.Option("--message", "-m", help="The task to start with.")] = None,
    work_dir: Annotated[Path | None, typer.Option(help="Where code runs (default: a temporary dir).")] = None,
) -> None:
    """A user proxy and an assistant solve a task on the console, running code on the way."""
    _demo(message, work_dir)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()
