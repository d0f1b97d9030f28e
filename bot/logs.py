"""The process's logging: readable lines by default, JSON lines when asked; the thread and the
conversation on every line logged while a thread's work runs; never a token or a key.

A thread's worker calls :func:`bind_thread` (a ``ContextVar``, so it holds for that worker's
task and what it starts); :class:`ThreadFilter` puts it on each record. :class:`SecretFilter`
masks, in the message, the traceback and the stack, what the bot's
:class:`~bot.redaction.Redactor` finds in what it posts: the configured secrets (the settings'
tokens, the team files' keys, secret-looking environment variables, the database password)
and common token shapes; it counts what it masked, by kind, never keeping the value. It runs
as each record is made (a log record factory), so it covers every logger and every handler,
the libraries' own too (slack_sdk, discord, aiohttp, openai, sqlalchemy, which may log an
error that quotes a token, or add a handler of their own, as SQLAlchemy's ``echo`` does).
"""

from __future__ import annotations

import logging
import sys
from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TextIO

from pythonjsonlogger.json import JsonFormatter

from .redaction import Redactor, redactor_for
from .settings import Settings

__all__ = ["SecretFilter", "ThreadFilter", "bind_thread", "bound_conversation", "configure_logging", "use_redactor"]

_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(where)s: %(message)s"
_JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(thread_key)s %(conversation)s"
_JSON_NAMES = {"asctime": "time", "levelname": "level", "name": "logger", "thread_key": "thread"}

_thread: ContextVar[tuple[str, int | None] | None] = ContextVar("threadcrew_log_thread", default=None)
_installed: list[SecretFilter] = []  # the filter of the configured handler, for use_redactor()


def bind_thread(thread: str, conversation: int | None = None) -> None:
    """Name ``thread`` (and its ``conversation``) on every line logged from here in this task."""
    _thread.set((thread, conversation))


def bound_conversation() -> int | None:
    """The conversation whose work runs here (see :func:`bind_thread`), if any."""
    bound = _thread.get()
    return bound[1] if bound is not None else None


class ThreadFilter(logging.Filter):
    """Adds ``thread_key`` and ``conversation`` (``where`` for readable lines) to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        bound = _thread.get()
        thread, conversation = bound if bound is not None else (None, None)
        record.thread_key = thread
        record.conversation = conversation
        record.where = f" [thread {thread} conversation {conversation}]" if thread else ""
        return True


class SecretFilter(logging.Filter):
    """Masks secrets in each record's message, traceback and stack, as ``redactor`` finds them."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor
        self.masked: Counter[str] = Counter()  # what was masked so far, by kind (never the value)

    def mask(self, text: str) -> str:
        return self.redactor.quietly(text, self.masked)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the message: show both, masked
            message = f"{record.msg} {record.args!r}"
        masked = self.mask(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info:
            record.exc_text = self.mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None  # formatters would format it again, unmasked
        elif record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


def _masking_factory(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    """``make`` (the record factory in place), with each record masked as it is made."""

    def masked(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        for secrets in _installed:
            secrets.filter(record)
        return record

    masked.threadcrew_masking = True  # type: ignore[attr-defined]
    return masked


def use_redactor(redactor: Redactor) -> None:
    """Mask in the logs what ``redactor`` finds (the bot's, which knows the team files' keys too)."""
    for installed in _installed:
        installed.redactor = redactor


def configure_logging(settings: Settings | None, stream: TextIO | None = None) -> logging.Handler:
    """Log to ``stream`` (stderr) as ``settings`` say (``log_level``, ``log_format``); returns the handler.

    ``settings`` None (the environment is not a valid configuration; the command says why):
    readable warnings. Calling it again replaces the handler it installed before.
    """
    json = settings is not None and settings.log_format == "json"
    handler = logging.StreamHandler(stream or sys.stderr)
    formatter: logging.Formatter = (
        JsonFormatter(_JSON_FIELDS, rename_fields=_JSON_NAMES) if json else logging.Formatter(_TEXT_FORMAT)
    )
    handler.setFormatter(formatter)
    secrets = SecretFilter(redactor_for(settings) if settings is not None else Redactor())
    handler.addFilter(ThreadFilter())
    handler.addFilter(secrets)  # what a handler adds (``extra`` fields aside, records come masked already)
    root = logging.getLogger()
    for old in [h for h in root.handlers if any(isinstance(f, SecretFilter) for f in h.filters)]:
        root.removeHandler(old)
    _installed[:] = [secrets]
    if not getattr(logging.getLogRecordFactory(), "threadcrew_masking", False):
        logging.setLogRecordFactory(_masking_factory(logging.getLogRecordFactory()))
    root.addHandler(handler)
    root.setLevel(settings.log_level if settings is not None else logging.WARNING)
    return handler
