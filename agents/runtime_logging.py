"""AutoGen's ``runtime_logging``: record what a session of agents did, in SQLite or a file.

::

    from agents import runtime_logging

    session_id = runtime_logging.start(config={"dbname": "logs.db"})      # or logger_type="file"
    user.initiate_chat(assistant, message="...")
    runtime_logging.stop()

Model calls are recorded by the model client; ``log_new_agent``, ``log_event`` and
``log_function_use`` are there for agents and for your own code. Each ``log_*`` does nothing
while logging is off.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Any, Literal

from .errors import ConfigurationError
from .loggers import BaseLogger, FileLogger, SqliteLogger

__all__ = [
    "get_connection",
    "log_chat_completion",
    "log_event",
    "log_function_use",
    "log_new_agent",
    "log_new_client",
    "log_new_wrapper",
    "logging_enabled",
    "start",
    "stop",
]

_log = logging.getLogger(__name__)


class _Session:
    """The logger of the running session (one per process, as in AutoGen)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.logger: BaseLogger | None = None


_session = _Session()


def start(
    logger: BaseLogger | None = None,
    logger_type: Literal["sqlite", "file"] = "sqlite",
    config: dict[str, Any] | None = None,
) -> str:
    """Start logging and return the session id.

    Args:
        logger: a logger of your own; else one of ``logger_type``.
        logger_type: ``"sqlite"`` (``config={"dbname": ...}``) or ``"file"`` (``{"filename": ...}``).
        config: the logger's settings.

    Raises:
        ConfigurationError: an unknown ``logger_type``.
    """
    if logger is None:
        if logger_type == "sqlite":
            logger = SqliteLogger(config)
        elif logger_type == "file":
            logger = FileLogger(config)
        else:
            raise ConfigurationError(f"unknown logger_type {logger_type!r}; use 'sqlite' or 'file'")
    with _session.lock:
        if _session.logger is not None:
            _session.logger.stop()
        session_id = logger.start()
        _session.logger = logger
    return session_id


def stop() -> None:
    """Stop logging and close the logger."""
    with _session.lock:
        if _session.logger is not None:
            _session.logger.stop()
            _session.logger = None


def logging_enabled() -> bool:
    """Whether a session is being logged."""
    return _session.logger is not None


def get_connection() -> sqlite3.Connection | None:
    """The SQLite logger's connection, or None (no logging, or a file logger)."""
    logger = _session.logger
    return logger.get_connection() if logger is not None else None


def _call(method: str, *args: Any, **kwargs: Any) -> None:
    logger = _session.logger
    if logger is None:
        return
    try:
        getattr(logger, method)(*args, **kwargs)
    except Exception:  # a broken log must never break a chat
        _log.exception("runtime logging failed in %s", method)


def log_chat_completion(*args: Any, **kwargs: Any) -> None:
    """Record one model call (the arguments of :meth:`BaseLogger.log_chat_completion`)."""
    _call("log_chat_completion", *args, **kwargs)


def log_new_agent(agent: Any, init_args: dict[str, Any]) -> None:
    """Record that an agent was built, with its arguments."""
    _call("log_new_agent", agent, init_args)


def log_event(source: Any, name: str, **kwargs: Any) -> None:
    """Record an event of ``source`` (an agent or a name), with its details."""
    _call("log_event", source, name, **kwargs)


def log_new_wrapper(wrapper: Any, init_args: dict[str, Any]) -> None:
    """Record that a model client (AutoGen's wrapper) was built."""
    _call("log_new_wrapper", wrapper, init_args)


def log_new_client(client: Any, wrapper: Any, init_args: dict[str, Any]) -> None:
    """Record that one endpoint's client was built."""
    _call("log_new_client", client, wrapper, init_args)


def log_function_use(agent: Any, function: Any, args: dict[str, Any], returns: Any) -> None:
    """Record a tool call and what it returned."""
    _call("log_function_use", agent, function, args, returns)
