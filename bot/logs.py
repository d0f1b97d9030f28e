"""The process's logging: readable lines by default, JSON lines when asked; the thread and the
conversation on every line logged while a thread's work runs; never a token or a key.

A thread's worker calls :func:`bind_thread` (a ``ContextVar``, so it holds for that worker's
task and what it starts); :class:`ThreadFilter` puts it on each record. :class:`SecretFilter`
masks, in the message and in the traceback, what the bot's :class:`~bot.redaction.Redactor`
finds in what it posts: the configured secrets (the settings' tokens, the team files' keys,
secret-looking environment variables) and common token shapes.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

from .redaction import REDACTED, Redactor, redactor_for
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
    """Masks secrets in each record's message and traceback, as ``redactor`` finds them."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def mask(self, text: str) -> str:
        # spans(), not redact(): redact() logs what it took out, and a filter must not log.
        parts, end = [], 0
        for start, stop in sorted(self.redactor.spans(text)):
            if start < end:  # overlaps the span masked last
                end = max(end, stop)
                continue
            parts += [text[end:start], REDACTED]
            end = stop
        return "".join([*parts, text[end:]])

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info:
            record.exc_text = self.mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None  # formatters would format it again, unmasked
        elif record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        return True


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
    handler.addFilter(secrets)
    root = logging.getLogger()
    for old in [h for h in root.handlers if any(isinstance(f, SecretFilter) for f in h.filters)]:
        root.removeHandler(old)
    _installed[:] = [secrets]
    root.addHandler(handler)
    root.setLevel(settings.log_level if settings is not None else logging.WARNING)
    return handler
