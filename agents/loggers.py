"""The runtime loggers behind :mod:`agents.runtime_logging`: SQLite or a JSON-lines file.

Both record model calls (request, response, cost, cached or not), new agents and clients,
agent events and tool calls, tagged with the session that ``start()`` opened. API keys never
reach a log: values under ``api_key`` are dropped and anything shaped like a key is redacted.
The SQLite logger keeps AutoGen's table and column names, so queries written for AutoGen's
``logs.db`` work here. In the bot, runs are recorded in the bot's own database instead.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pydantic

from .errors import redact_secrets

__all__ = ["JSON_FIELDS", "BaseLogger", "FileLogger", "SqliteLogger", "to_json"]

JSON_FIELDS = frozenset({"request", "response", "init_args", "json_state", "args", "returns"})
"""The fields of a record that :meth:`BaseLogger._write` gets as JSON text (see :func:`to_json`)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chat_completions (
    id INTEGER PRIMARY KEY, invocation_id TEXT, client_id INTEGER, wrapper_id INTEGER, session_id TEXT,
    source_name TEXT, request TEXT, response TEXT, is_cached INTEGER, cost REAL, start_time TEXT, end_time TEXT);
CREATE TABLE IF NOT EXISTS agents (
    id INTEGER PRIMARY KEY, agent_id INTEGER, wrapper_id INTEGER, session_id TEXT, name TEXT, class TEXT,
    init_args TEXT, timestamp TEXT);
CREATE TABLE IF NOT EXISTS oai_wrappers (
    id INTEGER PRIMARY KEY, wrapper_id INTEGER, session_id TEXT, init_args TEXT, timestamp TEXT);
CREATE TABLE IF NOT EXISTS oai_clients (
    id INTEGER PRIMARY KEY, client_id INTEGER, wrapper_id INTEGER, session_id TEXT, class TEXT,
    init_args TEXT, timestamp TEXT);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, event_name TEXT, source_id INTEGER, source_name TEXT, agent_module TEXT,
    agent_class_name TEXT, json_state TEXT, timestamp TEXT);
CREATE TABLE IF NOT EXISTS function_calls (
    source_id INTEGER, source_name TEXT, function_name TEXT, args TEXT, returns TEXT, timestamp TEXT);
CREATE TABLE IF NOT EXISTS version (id INTEGER PRIMARY KEY CHECK (id = 1), version_number INTEGER NOT NULL);
INSERT OR IGNORE INTO version (id, version_number) VALUES (1, 1);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _scrub(v) for k, v in value.items() if k != "api_key"}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, pydantic.BaseModel):  # what a tool returns, often
        return _scrub(value.model_dump(mode="json"))
    to_dict = getattr(value, "to_dict", None)
    return _scrub(to_dict()) if callable(to_dict) else repr(value)


def to_json(value: Any) -> str:
    """``value`` as JSON for a log: API keys dropped or redacted, other objects as their repr."""
    return redact_secrets(json.dumps(_scrub(value), ensure_ascii=False))


def _name(source: Any) -> str | None:
    return source if isinstance(source, str) or source is None else getattr(source, "name", repr(source))


class BaseLogger:
    """A runtime logger: :mod:`agents.runtime_logging` calls its ``log_*`` methods.

    Subclasses implement :meth:`start`, :meth:`stop`, :meth:`get_connection` and
    :meth:`_write` (one record: a table name and its fields), or override the ``log_*`` methods.
    """

    session_id: str = ""

    def start(self) -> str:
        """Open the log and return the session id."""
        raise NotImplementedError

    def stop(self) -> None:
        """Close the log."""
        raise NotImplementedError

    def get_connection(self) -> sqlite3.Connection | None:
        """The database connection to query the log, when there is one."""
        return None

    def _write(self, table: str, fields: dict[str, Any]) -> None:
        raise NotImplementedError

    def log_chat_completion(
        self,
        invocation_id: uuid.UUID,
        client_id: int,
        wrapper_id: int,
        source: Any,
        request: dict[str, Any],
        response: Any,
        is_cached: int,
        cost: float,
        start_time: str,
    ) -> None:
        self._write(
            "chat_completions",
            {
                "invocation_id": str(invocation_id),
                "client_id": client_id,
                "wrapper_id": wrapper_id,
                "session_id": self.session_id,
                "source_name": _name(source),
                "request": to_json(request),
                "response": to_json(response),
                "is_cached": int(is_cached),
                "cost": cost,
                "start_time": start_time,
                "end_time": _now(),
            },
        )

    def log_new_agent(self, agent: Any, init_args: dict[str, Any]) -> None:
        client = getattr(agent, "client", None)
        self._write(
            "agents",
            {
                "agent_id": id(agent),
                "wrapper_id": id(client) if client is not None else 0,
                "session_id": self.session_id,
                "name": _name(agent),
                "class": type(agent).__name__,
                "init_args": to_json(init_args),
                "timestamp": _now(),
            },
        )

    def log_event(self, source: Any, name: str, **kwargs: Any) -> None:
        self._write(
            "events",
            {
                "event_name": name,
                "source_id": id(source),
                "source_name": _name(source),
                "agent_module": type(source).__module__,
                "agent_class_name": type(source).__name__,
                "json_state": to_json(kwargs),
                "timestamp": _now(),
            },
        )

    def log_new_wrapper(self, wrapper: Any, init_args: dict[str, Any]) -> None:
        self._write(
            "oai_wrappers",
            {
                "wrapper_id": id(wrapper),
                "session_id": self.session_id,
                "init_args": to_json(init_args),
                "timestamp": _now(),
            },
        )

    def log_new_client(self, client: Any, wrapper: Any, init_args: dict[str, Any]) -> None:
        self._write(
            "oai_clients",
            {
                "client_id": id(client),
                "wrapper_id": id(wrapper),
                "session_id": self.session_id,
                "class": type(client).__name__,
                "init_args": to_json(init_args),
                "timestamp": _now(),
            },
        )

    def log_function_use(self, source: Any, function: Any, args: dict[str, Any], returns: Any) -> None:
        self._write(
            "function_calls",
            {
                "source_id": id(source),
                "source_name": _name(source),
                "function_name": getattr(function, "__name__", str(function)),
                "args": to_json(args),
                "returns": to_json(returns),
                "timestamp": _now(),
            },
        )


class SqliteLogger(BaseLogger):
    """Logs into a SQLite file. ``config``: ``{"dbname": "logs.db"}`` (the default)."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.path = Path((config or {}).get("dbname", "logs.db"))
        self.session_id = str(uuid.uuid4())
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def start(self) -> str:
        """Open the database (creating its tables) and return the session id."""
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        # Each record commits at once (another process may be reading the log); WAL without a
        # sync per commit keeps that cheap, and a crash loses at most the last records.
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        return self.session_id

    def _write(self, table: str, fields: dict[str, Any]) -> None:
        if self._conn is None:
            return
        columns = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        with self._lock:
            self._conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(fields.values()))

    def get_connection(self) -> sqlite3.Connection | None:
        """The open connection (to query the logs), or None after :meth:`stop`."""
        return self._conn

    def stop(self) -> None:
        """Close the database."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class FileLogger(BaseLogger):
    """Logs JSON lines (one per record, with its ``type``) into a file.

    ``config``: ``{"filename": "runtime.log"}`` (the default).
    """

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.path = Path((config or {}).get("filename", "runtime.log"))
        self.session_id = str(uuid.uuid4())
        self._lock = threading.Lock()
        self._file: Any = None

    def start(self) -> str:
        """Open the file for appending and return the session id."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")
        return self.session_id

    def _write(self, table: str, fields: dict[str, Any]) -> None:
        if self._file is None:
            return
        line = json.dumps({"type": table, "session_id": self.session_id, **fields}, ensure_ascii=False)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def stop(self) -> None:
        """Close the file."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
