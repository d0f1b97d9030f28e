"""``threadcrew run``, ``start`` and ``demo``: the bot serving its platforms, a run started from the
command line, and the demo team."""

from __future__ import annotations

import functools
import secrets
import shutil
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr

from adapters import Author, ConsolePlatform
from adapters.web import WebThreadPlatform

from ..app import Bot, PlatformSource, serve
from ..checks import check_startup
from ..demo import DEFAULT_TASK, SCRIPTED_MODEL_NOTICE
from ..discord import discord_config, discord_platform
from ..errors import BotError
from ..settings import Settings
from ..slack import slack_config, slack_platform
from ..teams import TeamCatalog
from ..webconsole import web_thread_platform
from ._shared import fail, load_settings, run_async, teams_to_serve

__all__ = ["app"]

app = typer.Typer()  # its commands are the top-level ones: run, start, demo

PLATFORMS = ("console", "slack", "discord", "web")
ROLES = ("intake", "worker", "all")


def _console(settings: Settings, *, opening: str | None = None) -> ConsolePlatform:
    return ConsolePlatform(
        settings.data_dir / "files", posted_log=settings.data_dir / "console-posted.log", opening=opening
    )


def _loaded_catalog(settings: Settings, team: Path | None, platforms: list[str]) -> TeamCatalog:
    """The teams, and the settings checked as far as they can be before anything starts (one clear
    line and exit code 1 for the first problem)."""
    try:
        catalog, scripted = teams_to_serve(team)
    except BotError as exc:
        raise fail(str(exc)) from exc
    run_async(lambda: check_startup(settings, catalog, platforms=platforms))
    if scripted:
        typer.echo(SCRIPTED_MODEL_NOTICE)
    return catalog


def _serve_console(settings: Settings, team: Path | None, opening: str | None) -> None:
    catalog = _loaded_catalog(settings, team, ["console"])
    typer.echo(
        "Type to talk to the team (/as NAME to be someone else; /status, /pause, /resume, /stop); "
        "a number presses that button. End with Ctrl-D.\n"
    )
    run_async(lambda: serve(settings, _console(settings, opening=opening), catalog, until_idle=True))


def _platform_sources(settings: Settings, names: list[str]) -> list[PlatformSource]:
    """The platforms ``names`` from the settings, checked before anything starts.

    Raises:
        typer.Exit: an unknown platform, or its settings are missing or wrong (the message says which).
    """
    sources: list[PlatformSource] = []
    for name in dict.fromkeys(names):  # each once, in the order given
        if name not in PLATFORMS:
            raise fail(f"there is no platform {name!r}; use one of {', '.join(PLATFORMS)}", 2)
        try:
            if name == "slack":
                slack_config(settings)  # fail before anything starts
                sources.append(functools.partial(slack_platform, settings))
            elif name == "console":
                sources.append(_console(settings))
            elif name == "discord":
                discord_config(settings)  # fail before anything starts
                sources.append(functools.partial(discord_platform, settings))
            elif name == "web":
                if not settings.console:
                    raise BotError(
                        "the web thread is a page of the web console: set THREADCREW_CONSOLE=true and "
                        "THREADCREW_CONSOLE_TOKEN (see the README's Web console section)"
                    )
                sources.append(web_thread_platform)
            else:
                raise fail(f"the {name} adapter is not part of this version yet; use console or slack", 2)
        except BotError as exc:
            raise fail(str(exc)) from exc
    return sources


def _listening(settings: Settings, names: list[str]) -> str:
    parts = []
    for name in names:
        if name == "slack":
            http = settings.slack_mode == "http"
            parts.append(f"Slack (HTTP on port {settings.http_port})" if http else "Slack (Socket Mode)")
        elif name == "web":
            parts.append(f"the web thread (http://{settings.web_host}:{settings.http_port}/console/web)")
        else:
            parts.append(name.capitalize())
    return f"threadcrew is listening to {' and '.join(parts)}; Ctrl-C stops it."


@app.command()
def run(
    platform: Annotated[
        list[str] | None,
        typer.Option(
            help="Where the threads are: console, slack, web or discord; repeat it to serve several "
            "(default: THREADCREW_PLATFORMS, else console)."
        ),
    ] = None,
    team: Annotated[
        Path | None, typer.Option(help="The team file (default: THREADCREW_TEAM, else the demo team).")
    ] = None,
    role: Annotated[
        str | None,
        typer.Option(
            help="intake (take events, queue the work), worker (run the work) or all (both); "
            "default: THREADCREW_ROLE, else all. Other than all needs PostgreSQL."
        ),
    ] = None,
) -> None:
    """Run the bot. On the console (the default) the terminal is one thread, kept across runs."""
    settings = load_settings(**({"role": _role(role)} if role is not None else {}))
    if settings.role != "all" and not (settings.database_url or "").startswith("postgres"):
        raise fail(
            f"--role {settings.role} needs PostgreSQL (THREADCREW_DATABASE_URL=postgresql://...): on SQLite "
            "one process takes the events and runs the conversations; leave the role at all",
            2,
        )
    names = list(platform or settings.platform_names() or ["console"])
    in_process = sorted({"console", "web"} & set(names))
    if settings.role != "all" and in_process:
        raise fail(
            f"the {' and '.join(in_process)} thread{'s live' if len(in_process) > 1 else ' lives'} in one process: "
            f"serve {', '.join(in_process)} with role all, and run intake and workers for Slack and Discord",
            2,
        )
    sources = _platform_sources(settings, names)
    if names == ["console"]:
        _serve_console(settings, team or settings.team, None)
        return
    catalog = _loaded_catalog(settings, team or settings.team, names)
    if settings.role == "worker":
        typer.echo(f"threadcrew is working on the threads of {', '.join(names)} from the job queue; Ctrl-C stops it.")
    else:
        typer.echo(_listening(settings, names))
    run_async(lambda: serve(settings, sources, catalog))


def _role(role: str) -> str:
    if role.lower() not in ROLES:
        raise fail(f"there is no role {role!r}; use one of {', '.join(ROLES)}", 2)
    return role.lower()


@app.command()
def start(
    task: Annotated[str, typer.Argument(help="What the team should do (the run's first message).")],
    platform: Annotated[str, typer.Option(help="Where: slack, discord (or console).")] = "slack",
    channel: Annotated[str, typer.Option(help="The channel to open the thread in (its id, e.g. C123).")] = "",
    workspace: Annotated[
        str,
        typer.Option(
            help="The workspace (Slack team id; with one bot token, its own workspace). Discord: the channel's guild."
        ),
    ] = "",
    team: Annotated[str | None, typer.Option(help="The team's name (default: the default team).")] = None,
    team_file: Annotated[
        Path | None, typer.Option("--team-file", help="The team file (default: THREADCREW_TEAM, else the demo team).")
    ] = None,
) -> None:
    """Start a team's run in a new thread, without a mention; runs it until it finishes or waits for people.

    A bot serving the same database (`threadcrew run`) takes the thread's replies and buttons after that.
    """
    settings = load_settings()
    if platform != "console" and not channel:
        raise fail("name the channel to start the run in: --channel C123", 2)
    sources = _platform_sources(settings, [platform])
    quiet = settings.model_copy(update={"health": False})  # it serves no web server
    catalog = _loaded_catalog(quiet, team_file or settings.team, [])

    async def main() -> tuple[str, bool]:
        bot = Bot(settings, sources, catalog, intake=False)
        running = await bot.start()
        assert bot.dispatcher is not None
        try:
            thread = await bot.dispatcher.start_run(platform, workspace, channel, task, team=team)
            queued = bot.dispatcher.queue.distributed
            if not queued:  # this process runs it; on PostgreSQL the bot's workers do
                await bot.dispatcher.wait_idle_thread(thread)
        finally:
            await bot.close()
            await running
        return thread.key, queued

    key, queued = run_async(main)
    how = "queued for the bot's workers" if queued else "started"
    typer.echo(f"{how} in {key}; `threadcrew transcript show {key}` shows it")


@app.command()
def demo(
    message: Annotated[str | None, typer.Option("--message", "-m", help="The task to start with.")] = None,
    web: Annotated[
        bool, typer.Option("--web", help="In the browser: a web thread on this machine's web console.")
    ] = False,
) -> None:
    """The demo team on the console: planner, coder and reviewer, with code you approve.

    Each demo starts afresh, in THREADCREW_DATA_DIR/demo (its chart file stays there).
    """
    base = load_settings()
    demo_dir = base.data_dir / "demo"
    shutil.rmtree(demo_dir, ignore_errors=True)
    settings = base.model_copy(update={"data_dir": demo_dir, "database_url": None})
    if web:
        _serve_web_demo(settings, message or DEFAULT_TASK)
        return
    _serve_console(settings, None, message or DEFAULT_TASK)


def _serve_web_demo(settings: Settings, task: str) -> None:
    """The demo in a web thread: the bot with its console and the web platform, the task's thread started."""
    given = settings.console_token.get_secret_value() if settings.console_token is not None else ""
    token = given or secrets.token_urlsafe(24)  # this demo's own, printed below
    settings = settings.model_copy(update={"console": True, "console_token": SecretStr(token)})
    catalog = _loaded_catalog(settings, None, ["web"])

    async def main() -> None:
        bot = Bot(settings, [web_thread_platform], catalog)
        running = await bot.start()
        assert bot.web is not None
        platform = bot.platforms["web"]
        assert isinstance(platform, WebThreadPlatform)
        thread = await platform.start(Author("demo", "you"), task)
        shown = "the token in THREADCREW_CONSOLE_TOKEN" if given else f"this token: {token}"
        typer.echo(
            f"Open {bot.web.url}/console/web/{thread.thread_id} and sign in with any name and {shown}\n"
            "Ctrl-C stops the demo."
        )
        await running

    run_async(main)
