"""The ``threadcrew`` command."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer

from agents import AgentError, aclose_loop_resources

from .demo import run_demo

app = typer.Typer(help="Multi-agent conversations in chat threads.", no_args_is_help=True, add_completion=False)


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
