"""Start-up checks: everything the bot needs is usable before anything says "listening".

:func:`check_startup` looks at what a bad setting would otherwise turn into a traceback later: the
data directory (created and writable), the SQLite file's directory, the database (reachable, with
its password kept out of the message), the teams' code execution (a Docker engine answers,
bubblewrap works where a team requires it), the HTTP ports (free), and that a team is configured
(team files were checked completely when they were loaded, numbers in range included). The first
problem stops start-up with one line that names the setting and the fix.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
import tempfile
from collections.abc import Collection
from pathlib import Path
from urllib.parse import urlsplit

from agents import CodeExecutionError
from agents.coding.docker import docker_client
from agents.coding.local import bubblewrap_works
from storage import Database, StorageError, database_url

from .errors import StartupError
from .settings import Settings
from .teams import TeamCatalog

__all__ = ["CONNECT_TIMEOUT", "check_startup"]

CONNECT_TIMEOUT = 10.0  # seconds the database gets to answer at start-up


async def check_startup(settings: Settings, catalog: TeamCatalog, *, platforms: Collection[str] = ()) -> None:
    """Check the settings and teams as far as can be known before serving.

    Args:
        settings: the bot's settings.
        catalog: the teams it serves.
        platforms: the platforms it is about to serve (``slack``: its HTTP port is checked in HTTP mode).

    Raises:
        StartupError: the first problem, in one line naming the setting and the fix.
    """
    if catalog.default is None:
        raise StartupError("no team is configured: pass --team FILE or set THREADCREW_TEAM")
    _paths(settings)
    await _database(settings.effective_database_url)
    await _code_execution(catalog)
    for setting, host, port in _ports(settings, platforms):
        _port_free(setting, host, port)


def _writable_dir(path: Path, setting: str, what: str = "") -> None:
    """``path`` exists (created if need be) and threadcrew may write in it."""
    shown = what or f"{setting} ({path})"
    fix = (
        f"point {setting} at a file in a directory threadcrew can create and write"
        if what
        else f"set {setting} to a directory threadcrew can create and write"
    )
    try:
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "it is a file, not a directory", str(path))
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".threadcrew-check-"):
            pass
    except OSError as exc:
        raise StartupError(f"{shown} cannot be used: {_reason(exc)}; {fix}, or fix its permissions") from None


def _reason(exc: OSError) -> str:
    reason = exc.strerror or type(exc).__name__
    where = exc.filename
    return f"{reason.lower()} ({where})" if where else reason.lower()


def _paths(settings: Settings) -> None:
    """The data directory, and the SQLite file's directory, can be created and written."""
    _writable_dir(settings.data_dir.expanduser(), "THREADCREW_DATA_DIR")
    try:
        parsed = database_url(settings.effective_database_url)
    except StorageError as exc:
        raise StartupError(f"THREADCREW_DATABASE_URL: {exc}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        setting = "THREADCREW_DATABASE_URL" if settings.database_url else "THREADCREW_DATA_DIR"
        parent = Path(parsed.database).expanduser().parent
        _writable_dir(parent, setting, f"the SQLite database's directory {parent}")


async def _database(url: str) -> None:
    """The database answers (within ``CONNECT_TIMEOUT``)."""
    db = Database(url)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT), db.connect():
            pass
    except TimeoutError:
        raise StartupError(
            f"THREADCREW_DATABASE_URL ({db.safe_url}): the database did not answer within {CONNECT_TIMEOUT:g} s; "
            "check the host and port, and that a firewall lets threadcrew through"
        ) from None
    except Exception as exc:  # the drivers' errors are not wrapped by storage: name them here
        raise StartupError(
            f"THREADCREW_DATABASE_URL ({db.safe_url}): cannot connect: {_driver_reason(exc, url)}; check that the "
            "server runs and the URL's host, port, user, password and database name"
        ) from None
    finally:
        await db.close()


def _driver_reason(exc: BaseException, url: str) -> str:
    """The driver's own complaint (under SQLAlchemy's wrapping) on one line, without the password."""
    cause: BaseException = exc
    while True:
        inner = getattr(cause, "orig", None) or cause.__cause__
        if not isinstance(inner, BaseException) or inner is cause:
            break
        cause = inner
    text = " ".join(str(cause).split())
    password = _password(url)
    if password:
        text = text.replace(password, "***")
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


def _password(url: str) -> str | None:
    with contextlib.suppress(ValueError):
        return urlsplit(url).password
    return None


async def _code_execution(catalog: TeamCatalog) -> None:
    """Each team's code can run where it says: a Docker engine answers, bubblewrap works if required."""
    for config in catalog.configs.values():
        run, where = config.code_execution, f"team {config.name!r}"
        if run.executor != "none" and run.in_docker:
            try:
                client = await asyncio.to_thread(docker_client)
            except CodeExecutionError as exc:
                reason = " ".join(str(exc).split())
                raise StartupError(
                    f"{where}: code_execution.executor is docker, but {reason}; or set code_execution.executor: local"
                ) from None
            client.close()
        elif run.executor == "local" and run.sandbox == "bubblewrap" and not await asyncio.to_thread(bubblewrap_works):
            raise StartupError(
                f"{where}: code_execution.sandbox is bubblewrap, but bubblewrap is missing or cannot create "
                "namespaces here; install it (apt-get install bubblewrap), or set code_execution.sandbox: docker"
            )


def _ports(settings: Settings, platforms: Collection[str]) -> list[tuple[str, str, int]]:
    """The ports threadcrew is about to listen on: (the setting, host, port)."""
    takes_events = settings.role != "worker"  # a worker's web server (if any) has health and metrics only
    slack_http = takes_events and "slack" in platforms and settings.slack_mode == "http"
    if not (settings.health or (settings.console and takes_events) or slack_http) or not settings.http_port:
        return []  # no web server (or a port the system picks)
    host = settings.http_host or ("0.0.0.0" if slack_http else "127.0.0.1")
    return [("THREADCREW_HTTP_PORT", host, settings.http_port)]


def _port_free(setting: str, host: str, port: int) -> None:
    """Bind ``host:port`` as the server will (SO_REUSEADDR) and let it go again."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        host_setting = setting.replace("_PORT", "_HOST")
        raise StartupError(f"{host_setting} ({host}) is not an address here: {exc.strerror}; fix it") from None
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as probe:
            if os.name == "posix":
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise StartupError(
                        f"{setting}: port {port} on {host} is in use (another threadcrew?); stop what uses it, "
                        f"or set {setting} to a free port"
                    ) from None
                raise StartupError(f"{setting}: cannot listen on {host}:{port}: {_reason(exc)}; fix it") from None
