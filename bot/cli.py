"""The ``threadcrew`` command."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import secrets
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import SecretStr, ValidationError

from adapters import AdapterError, Author, ConsolePlatform
from adapters.web import WebThreadPlatform
from storage import (
    ConversationRecord,
    Database,
    NewSchedule,
    NotFoundError,
    StorageError,
    WaitRecord,
    current_revision,
    head_revision,
    upgrade,
)

from .app import Bot, PlatformSource, serve
from .checks import check_startup
from .demo import DEFAULT_TASK, SCRIPTED_MODEL_NOTICE, demo_team_config
from .discord import discord_config, discord_platform
from .errors import BotError
from .logs import configure_logging
from .rendering import message_text
from .scheduling import Timing
from .scheduling.channels import check_schedule_channels
from .scheduling.config import KNOWN_PLATFORMS
from .scheduling.manage import add_schedule, describe, set_schedule
from .session import thread_of
from .settings import Settings
from .slack import slack_config, slack_platform
from .teams import TeamCatalog
from .webconsole import web_thread_platform

app = typer.Typer(help="Multi-agent conversations in chat threads.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="The database: migrations and their state.", no_args_is_help=True)
teams_app = typer.Typer(help="Team files.", no_args_is_help=True)
transcript_app = typer.Typer(help="What was said in a thread's conversation.", no_args_is_help=True)
waits_app = typer.Typer(help="What the teams wait for: questions, approvals, choices of speaker.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(teams_app, name="teams")
app.add_typer(transcript_app, name="transcript")
app.add_typer(waits_app, name="waits")
schedules_app = typer.Typer(help="Scheduled team runs (the README's Scheduling section).", no_args_is_help=True)
app.add_typer(schedules_app, name="schedules")

PLATFORMS = ("console", "slack", "discord", "web")
ROLES = ("intake", "worker", "all")
T = TypeVar("T")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _settings(**overrides: Any) -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(f"THREADCREW_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise _fail(f"the environment is not a valid configuration: {problems}", 2) from None
    return settings.model_copy(update=overrides) if overrides else settings


def _run(main: Callable[[], Awaitable[T]]) -> T:
    """Run ``main``, turning threadcrew's own errors into a clear message and exit code 1."""
    try:
        return asyncio.run(main())  # type: ignore[arg-type]
    except (BotError, StorageError, AdapterError) as exc:
        raise _fail(str(exc)) from exc
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


# -- running ------------------------------------------------------------------------------------------


def _catalog(team: Path | None) -> tuple[TeamCatalog, bool]:
    """The teams to serve, and whether the scripted demo model stands in for a real one."""
    catalog = TeamCatalog()
    if team is not None:
        catalog.add_file(team, default=True)
        return catalog, False
    config, scripted = demo_team_config()
    catalog.add_config(config, default=True)
    return catalog, scripted


def _console(settings: Settings, *, opening: str | None = None) -> ConsolePlatform:
    return ConsolePlatform(
        settings.data_dir / "files", posted_log=settings.data_dir / "console-posted.log", opening=opening
    )


def _loaded_catalog(settings: Settings, team: Path | None, platforms: list[str]) -> TeamCatalog:
    """The teams, and the settings checked as far as they can be before anything starts (one clear
    line and exit code 1 for the first problem)."""
    try:
        catalog, scripted = _catalog(team)
    except BotError as exc:
        raise _fail(str(exc)) from exc
    _run(lambda: check_startup(settings, catalog, platforms=platforms))
    if scripted:
        typer.echo(SCRIPTED_MODEL_NOTICE)
    return catalog


def _serve_console(settings: Settings, team: Path | None, opening: str | None) -> None:
    catalog = _loaded_catalog(settings, team, ["console"])
    typer.echo(
        "Type to talk to the team (/as NAME to be someone else; /status, /pause, /resume, /stop); "
        "a number presses that button. End with Ctrl-D.\n"
    )
    _run(lambda: serve(settings, _console(settings, opening=opening), catalog, until_idle=True))


def _platform_sources(settings: Settings, names: list[str]) -> list[PlatformSource]:
    """The platforms ``names`` from the settings, checked before anything starts.

    Raises:
        typer.Exit: an unknown platform, or its settings are missing or wrong (the message says which).
    """
    sources: list[PlatformSource] = []
    for name in dict.fromkeys(names):  # each once, in the order given
        if name not in PLATFORMS:
            raise _fail(f"there is no platform {name!r}; use one of {', '.join(PLATFORMS)}", 2)
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
                raise _fail(f"the {name} adapter is not part of this version yet; use console or slack", 2)
        except BotError as exc:
            raise _fail(str(exc)) from exc
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
    settings = _settings(**({"role": _role(role)} if role is not None else {}))
    if settings.role != "all" and not (settings.database_url or "").startswith("postgres"):
        raise _fail(
            f"--role {settings.role} needs PostgreSQL (THREADCREW_DATABASE_URL=postgresql://...): on SQLite "
            "one process takes the events and runs the conversations; leave the role at all",
            2,
        )
    names = list(platform or settings.platform_names() or ["console"])
    in_process = sorted({"console", "web"} & set(names))
    if settings.role != "all" and in_process:
        raise _fail(
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
    _run(lambda: serve(settings, sources, catalog))


def _role(role: str) -> str:
    if role.lower() not in ROLES:
        raise _fail(f"there is no role {role!r}; use one of {', '.join(ROLES)}", 2)
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
    settings = _settings()
    if platform != "console" and not channel:
        raise _fail("name the channel to start the run in: --channel C123", 2)
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

    key, queued = _run(main)
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
    base = _settings()
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

    _run(main)


# -- team files ---------------------------------------------------------------------------------------


@teams_app.command("validate")
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
        raise _fail(str(exc)) from exc
    schedules = [s.to_new(config.name, i) for i, s in enumerate(config.schedules)]
    if online and schedules:
        _check_channels(schedules, where=f"{file}: ")
    agents = ", ".join(a.name for a in config.agents)
    checked = "checked" if online else "not checked (--online checks them)"
    typer.echo(
        f"{file}: team {config.name!r} is valid: agents {agents}; people as {config.human.name!r}; "
        f"models {', '.join(config.models)}; speaker selection {config.group_chat.speaker_selection}"
        + (f"; {len(schedules)} schedule(s), their channels {checked}" if schedules else "")
    )


def _check_channels(schedules: list[NewSchedule], *, where: str = "") -> None:
    """Refuse (exit code 2) a schedule whose channel the bot cannot post in; warn where it cannot tell."""
    report = _with_database(lambda db: check_schedule_channels(_settings(), db, schedules))
    for schedule, reason in report.unchecked:
        typer.echo(
            f"warning: {where}schedule {schedule.name}: channel {schedule.channel_id} not checked: {reason}", err=True
        )
    if report.refused:
        refused = "; ".join(f"schedule {s.name}: {reason}" for s, reason in report.refused)
        raise _fail(f"{where}{refused}", 2)


# -- the database -------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database (THREADCREW_DATABASE_URL, or SQLite in THREADCREW_DATA_DIR) to the newest schema."""

    async def work(db: Database) -> tuple[str, str | None, str | None]:
        before = await current_revision(db)
        await upgrade(db)
        return db.safe_url, before, await current_revision(db)

    where, before, after = _with_database(work)
    if before == after:
        typer.echo(f"{where} is at migration {after}: nothing to do")
    else:
        typer.echo(f"{where}: migrated from {before or 'an empty database'} to {after}")


@db_app.command("current")
def db_current() -> None:
    """Say which migration the database is at, and which this threadcrew needs."""

    async def work(db: Database) -> tuple[str, str | None]:
        return db.safe_url, await current_revision(db)

    where, revision = _with_database(work)
    head = head_revision()
    state = "up to date" if revision == head else "behind: run `threadcrew db upgrade`"
    typer.echo(f"{where}: at {revision or 'no migration (empty)'}, this threadcrew needs {head} ({state})")


# -- transcripts --------------------------------------------------------------------------------------

THREAD_HELP = (
    "A conversation number (see `transcript list`), a thread key platform:workspace:channel:thread, or 'console'."
)


async def _find_conversation(db: Database, thread: str) -> ConversationRecord:
    stores = db.stores
    if thread.isdigit():
        return await stores.conversations.get(int(thread))
    if thread == "console":
        thread = "console:local:terminal:main"
    parts = thread.split(":")
    if len(parts) != 4:
        raise NotFoundError(f"{thread!r} is not a conversation: give {THREAD_HELP[2:]}")
    found = await stores.conversations.find(*parts)
    if found is None:
        raise NotFoundError(f"no conversation in the thread {thread}; `threadcrew transcript list` shows them")
    return found


def _with_database(work: Callable[[Database], Awaitable[T]]) -> T:
    settings = _settings()

    async def main() -> T:
        async with Database(settings.effective_database_url) as db:
            return await work(db)

    return _run(main)


@transcript_app.command("list")
def transcript_list(limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20) -> None:
    """The conversations changed last."""
    records = _with_database(lambda db: db.stores.conversations.recent(limit))
    if not records:
        typer.echo("no conversations yet")
    for r in records:
        key = thread_of(r).key
        when = f"{r.updated_at:%Y-%m-%d %H:%M}"
        typer.echo(f"{r.id:>5}  {when}  {r.status:<9} {r.team:<12} {r.last_seq:>4} messages  {key}")


@transcript_app.command("show")
def transcript_show(thread: Annotated[str, typer.Argument(help=THREAD_HELP)]) -> None:
    """A conversation's messages, as they were posted."""

    async def work(db: Database) -> tuple[ConversationRecord, list[Any]]:
        record = await _find_conversation(db, thread)
        return record, await db.stores.messages.list_since(record.id)

    record, messages = _with_database(work)
    typer.echo(f"conversation {record.id}: team {record.team}, {record.status}, {len(messages)} messages")
    for m in messages:
        who = m.name or m.author_id or m.role
        if m.author_kind == "human":
            who = f"{m.author_id} (as {m.name})" if m.name else str(m.author_id)
        typer.echo(f"\n[{m.seq}] {who}  {m.created_at:%H:%M:%S}{'' if m.posted_at else '  (not posted yet)'}")
        typer.echo(message_text(m))


@transcript_app.command("export")
def transcript_export(
    thread: Annotated[str, typer.Argument(help=THREAD_HELP)],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
) -> None:
    """A conversation and its messages as JSON (files by name, type and size)."""

    async def work(db: Database) -> dict[str, Any]:
        record = await _find_conversation(db, thread)
        messages = await db.stores.messages.list_since(record.id)
        return {
            "conversation": {
                "id": record.id,
                "thread": {
                    "platform": record.platform,
                    "workspace_id": record.workspace_id,
                    "channel_id": record.channel_id,
                    "thread_id": record.thread_id,
                },
                "team": record.team,
                "status": record.status,
                "usage": {
                    "prompt_tokens": record.prompt_tokens,
                    "completion_tokens": record.completion_tokens,
                    "cost_usd": record.cost,
                },
                "created_at": record.created_at.isoformat(),
                "updated_at": record.updated_at.isoformat(),
            },
            "messages": [_exported(m) for m in messages],
        }

    document = json.dumps(_with_database(work), indent=2, ensure_ascii=False)
    if output is None:
        typer.echo(document)
    else:
        output.write_text(document + "\n")
        typer.echo(f"wrote {output}")


def _exported(m: Any) -> dict[str, Any]:
    attachments = dict(m.attachments or {})
    files = [{k: v for k, v in f.items() if k != "data"} for f in attachments.pop("files", ())]
    return {
        "seq": m.seq,
        "role": m.role,
        "name": m.name,
        "author_kind": m.author_kind,
        "author_id": m.author_id,
        "content": m.content,
        "tool_calls": m.tool_calls,
        "tool_responses": m.tool_responses,
        "files": files,
        **({"buttons": attachments["buttons"]} if "buttons" in attachments else {}),
        "created_at": m.created_at.isoformat(),
        "posted_at": m.posted_at.isoformat() if m.posted_at else None,
        "platform_message_id": m.platform_message_id,
    }


@transcript_app.command("log")
def transcript_log(
    thread: Annotated[str, typer.Argument(help=THREAD_HELP)],
    kind: Annotated[
        list[str] | None,
        typer.Option(help="Only these: chat_completions, agents, events, function_calls, oai_wrappers, oai_clients."),
    ] = None,
) -> None:
    """What the runtime log recorded in a conversation (THREADCREW_RUNTIME_LOGGING), one JSON object a line."""

    async def work(db: Database) -> list[Any]:
        record = await _find_conversation(db, thread)
        return await db.stores.runtime_log.for_conversation(record.id, kinds=kind or ())

    records = _with_database(work)
    if not records:
        typer.echo("nothing logged in this conversation (is THREADCREW_RUNTIME_LOGGING on?)", err=True)
    for r in records:
        line = {"type": r.kind, "session_id": r.session_id, "source_name": r.source_name, **r.record}
        typer.echo(json.dumps({**line, "logged_at": r.created_at.isoformat()}, ensure_ascii=False))


@waits_app.command("list")
def waits_list() -> None:
    """The open waits, oldest first: which thread, what kind, who may answer, since when."""

    async def work(db: Database) -> list[tuple[WaitRecord, ConversationRecord]]:
        waits = await db.stores.waits.open_waits()
        return [(w, await db.stores.conversations.get(w.conversation_id)) for w in waits]

    found = _with_database(work)
    if not found:
        typer.echo("nothing is waiting")
    for wait, record in found:
        who = ", ".join(wait.allowed_answerers) if wait.allowed_answerers else "anyone in the thread"
        prompt = " ".join(wait.prompt.split())
        typer.echo(
            f"{wait.id:>5}  {wait.created_at:%Y-%m-%d %H:%M}  {wait.kind:<8} {thread_of(record).key}  "
            f"for {wait.agent}; answered by {who}: {prompt[:80]}"
        )


# -- schedules --------------------------------------------------------------------------------------


@schedules_app.command("list")
def schedules_list() -> None:
    """Every schedule: its state, when it fires, its team and channel, its next run, its message."""
    records = _with_database(lambda db: db.stores.schedules.list())
    if not records:
        typer.echo("no schedules")
    now = dt.datetime.now(dt.UTC)
    for record in records:
        typer.echo(describe(record, now))


@schedules_app.command("add")
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
        raise _fail("say when: --cron '0 9 * * 1-5' or --every 30m (one of the two)", 2)
    if not channel:
        raise _fail("name the channel the runs open their threads in: --channel C123", 2)
    if platform not in KNOWN_PLATFORMS:
        raise _fail(f"unknown platform {platform!r}: use one of {', '.join(KNOWN_PLATFORMS)}", 2)
    try:
        timing = Timing.parse(cron if cron is not None else f"every {every}", timezone)
        team_name = _catalog(team_file or _settings().team)[0].check(team)
    except BotError as exc:
        raise _fail(str(exc), 2) from exc
    new = NewSchedule(
        name, team_name, platform, workspace, channel, message, timing.cron, timing.every_seconds, timezone
    )
    _check_channels([new])
    added = _with_database(
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


@schedules_app.command("delete")
def schedules_delete(name: str) -> None:
    """Delete a schedule (a team file's comes back at the next start while the file has it)."""
    typer.echo(_with_database(lambda db: set_schedule(db, name, "delete")))


@schedules_app.command("pause")
def schedules_pause(name: str) -> None:
    """Pause a schedule: it does not fire until resumed (a pause holds over restarts)."""
    typer.echo(_with_database(lambda db: set_schedule(db, name, "pause")))


@schedules_app.command("resume")
def schedules_resume(name: str) -> None:
    """Resume a paused schedule: a fire missed within the misfire grace still runs."""
    typer.echo(_with_database(lambda db: set_schedule(db, name, "resume")))


# -- Discord ------------------------------------------------------------------------------------------

discord_app = typer.Typer(help="The Discord bot: its slash command and its invite link.", no_args_is_help=True)
app.add_typer(discord_app, name="discord")


@discord_app.command("sync-commands")
def discord_sync_commands(
    guild: Annotated[
        str | None, typer.Option(help="Register in this guild only (at once); else globally (up to an hour).")
    ] = None,
) -> None:
    """Register /threadcrew with Discord (run it once, and after upgrading; never done on connect)."""
    from adapters.discord import sync_commands

    try:
        config = discord_config(_settings())
    except BotError as exc:
        raise _fail(str(exc)) from exc
    application = _run(lambda: sync_commands(config, guild))
    where = f"in guild {guild}" if guild else "globally (Discord may take up to an hour to show it everywhere)"
    typer.echo(f"registered /{config.command} for application {application} {where}")


@discord_app.command("invite-url")
def discord_invite_url(
    client_id: Annotated[
        str | None, typer.Option(help="The application id (default: read from THREADCREW_DISCORD_TOKEN).")
    ] = None,
) -> None:
    """Print the link that adds the bot to a server, with exactly the permissions it needs."""
    from adapters.discord import client_id_from_token, invite_url

    try:
        if client_id is None:
            token = _settings().discord_token
            if token is None:
                raise _fail(
                    "give --client-id (General Information > Application ID) or set THREADCREW_DISCORD_TOKEN", 2
                )
            client_id = client_id_from_token(token.get_secret_value())
        typer.echo(invite_url(client_id))
    except AdapterError as exc:
        raise _fail(str(exc), 2) from exc


def main() -> None:
    try:
        settings: Settings | None = Settings()
    except ValidationError:
        settings = None  # the command says what is wrong
    configure_logging(settings)
    app()
