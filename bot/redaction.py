"""Secrets never leave: what goes into a thread or into the transcript passes a :class:`Redactor`.

The redactor knows the configured secrets (the settings' tokens and secrets, the database URL's
password, every team model's API key and URL password, the values of team-file ``${VAR}``s and
of environment variables whose names say they are secret) and the shapes of common tokens
(Slack, OpenAI, GitHub, AWS, private keys). Each is replaced by ``[redacted]``; a log line counts
what was taken out and names its kind, never its value.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import logging
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from adapters import Attachment, OutboundMessage
from storage import NewMessage

from .settings import Settings
from .team_config import TeamConfig

__all__ = ["REDACTED", "TOKEN_STARTS", "Redactor", "Secret", "looks_secret", "redactor_for"]

_log = logging.getLogger(__name__)

REDACTED = "[redacted]"
MIN_SECRET = 8  # shorter configured values ("ollama", "x") are placeholders, not secrets
_SECRET_WORDS = frozenset({"KEY", "APIKEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASS", "PWD", "CREDENTIALS"})

# Shapes of well-known tokens, found even when nobody configured them: (kind, how such a token
# begins, its pattern). A pattern runs only over text that holds one of its beginnings (fast).
_SHAPES: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = (
    (
        "a Slack token",
        ("xox", "xapp-"),
        re.compile(r"\bxox[a-z](?:\.xox[a-z])?-[A-Za-z0-9-]{8,}|\bxapp-[A-Za-z0-9-]{8,}"),
    ),
    ("an OpenAI-style key", ("sk-",), re.compile(r"\bsk-[A-Za-z0-9_-]{20,}")),
    (
        "a GitHub token",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
    ),
    ("an AWS access key", ("AKIA", "ASIA"), re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")),
    (
        "a private key",
        ("-----BEGIN",),
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.DOTALL),
    ),
)
# How the shapes begin: a word that ends in one of these may be a token still being written.
TOKEN_STARTS = tuple(start for _, starts, _ in _SHAPES for start in starts)


@dataclass(frozen=True, slots=True)
class Secret:
    """A configured secret: its value, and where it came from (what the log names)."""

    value: str
    source: str


def looks_secret(name: str) -> bool:
    """Whether an environment variable's name says it holds a secret (``OPENAI_API_KEY``, ``DB_PASSWORD``)."""
    return any(part in _SECRET_WORDS for part in re.split(r"[^A-Z0-9]+", name.upper()))


class Redactor:
    """Takes secrets out of text, messages to post and messages to store.

    Args:
        secrets: the configured secrets; values shorter than ``MIN_SECRET`` are left alone.
    """

    def __init__(self, secrets: Iterable[Secret] = ()) -> None:
        known: dict[str, str] = {}
        for secret in secrets:
            if len(secret.value) >= MIN_SECRET:
                known.setdefault(secret.value, secret.source)
        self._sources = known
        ordered = sorted(known, key=len, reverse=True)  # a secret that contains another goes first
        self._known = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        self._values = ordered
        # How JSON writes the secrets that it escapes (quotes, backslashes, control characters).
        self._escaped = [e for e in (json.dumps(v, ensure_ascii=False)[1:-1] for v in ordered) if e not in ordered]
        self.counts: Counter[str] = Counter()  # what was redacted so far, by kind

    @property
    def secrets(self) -> int:
        """How many configured values it looks for."""
        return len(self._sources)

    def redact(self, text: str, where: str = "a message") -> str:
        """``text`` with every secret replaced by ``[redacted]``; a log line says how many, of what kind."""
        found: Counter[str] = Counter()
        text = self._redact(text, found)
        self._report(found, where)
        return text

    def quietly(self, text: str, found: Counter[str]) -> str:
        """``text`` redacted, adding what was taken out to ``found`` by kind; logs nothing (the
        log's own filter uses it: a filter that logged would run again on its own line)."""
        return self._redact(text, found)

    def unfinished(self, text: str) -> int:
        """Where the longest tail of ``text`` that begins a configured secret starts (``len(text)``: none)."""
        earliest = len(text)
        for value in self._values:
            start = max(0, len(text) - len(value) + 1)
            while (at := text.find(value[0], start)) != -1 and at < earliest:
                if value.startswith(text[at:]):
                    earliest = at
                    break
                start = at + 1
        return earliest

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where in ``text`` secrets are (start, end), found the way :meth:`redact` finds them."""
        found = [m.span() for m in self._known.finditer(text)] if self._known is not None else []
        return found + [m.span() for _, _, shape in self._shapes_in(text) for m in shape.finditer(text)]

    @staticmethod
    def _shapes_in(text: str) -> list[tuple[str, tuple[str, ...], re.Pattern[str]]]:
        return [shape for shape in _SHAPES if any(start in text for start in shape[1])]

    def _redact(self, text: str, found: Counter[str]) -> str:
        if self._known is not None and any(value in text for value in self._values):  # a search is fast, a regex not

            def known(match: re.Match[str]) -> str:
                found[self._sources[match.group(0)]] += 1
                return REDACTED

            text = self._known.sub(known, text)
        for kind, _, shape in self._shapes_in(text):

            def shaped(match: re.Match[str], kind: str = kind) -> str:
                found[kind] += 1
                return REDACTED

            text = shape.sub(shaped, text)
        return text

    def _report(self, found: Counter[str], where: str) -> None:
        if not found:
            return
        self.counts.update(found)
        kinds = ", ".join(f"{n} × {kind}" for kind, n in sorted(found.items()))
        _log.warning("redacted %d secret(s) from %s: %s", sum(found.values()), where, kinds)

    def outbound(self, message: OutboundMessage, where: str = "a post") -> OutboundMessage:
        """``message`` as it may be posted: text, buttons and text files redacted."""
        found: Counter[str] = Counter()
        redacted = dataclasses.replace(
            message,
            text=self._redact(message.text, found),
            buttons=tuple(
                dataclasses.replace(b, label=self._redact(b.label, found), value=self._redact(b.value, found))
                for b in message.buttons
            ),
            attachments=tuple(self._file(f, found) for f in message.attachments),
        )
        self._report(found, where)
        return redacted if found else message

    def message(self, message: NewMessage, where: str = "a stored message") -> NewMessage:
        """``message`` as it may be stored: its words, tool calls and results, buttons and text files,
        and the prompt and answers of a model that chose its speaker."""
        found: Counter[str] = Counter()
        redacted = dataclasses.replace(
            message,
            content=self._redact(message.content, found) if message.content is not None else None,
            tool_calls=self._walk(message.tool_calls, found),
            tool_responses=self._walk(message.tool_responses, found),
            attachments=self._stored_attachments(message.attachments, found),
            speaker_selection=self._walk(message.speaker_selection, found),
        )
        self._report(found, where)
        return redacted if found else message

    def json(self, value: Any, where: str | None = None) -> Any:
        """A JSON value (dicts, lists, strings...) with every string redacted; logged when ``where``
        is given (a run's state holds the same messages at every save: it goes unlogged).

        The value is searched as one JSON text first (one pass in C), and walked string by string
        only when that text holds a secret or a token's beginning: a run's state at every save.
        """
        if not self._may_hold_secret(json.dumps(value, ensure_ascii=False, default=str)):
            return value
        found: Counter[str] = Counter()
        redacted = self._walk(value, found)
        if where is not None:
            self._report(found, where)
        return redacted

    def _may_hold_secret(self, text: str) -> bool:
        """Whether ``text`` (JSON) holds a configured secret, as is or as JSON writes it, or a token's beginning."""
        return any(start in text for start in TOKEN_STARTS) or any(
            value in text for value in (*self._values, *self._escaped)
        )

    def _walk(self, value: Any, found: Counter[str]) -> Any:
        if isinstance(value, str):
            return self._redact(value, found)
        if isinstance(value, list):
            return [self._walk(v, found) for v in value]
        if isinstance(value, dict):
            return {k: self._walk(v, found) for k, v in value.items()}
        return value

    def _stored_attachments(self, attachments: dict[str, Any] | None, found: Counter[str]) -> dict[str, Any] | None:
        if not attachments:
            return attachments
        out = dict(attachments)
        if "buttons" in out:
            out["buttons"] = self._walk(out["buttons"], found)
        if "files" in out:
            out["files"] = [{**f, "data": self._base64_file(f.get("data"), found)} for f in out["files"]]
        return out

    def _base64_file(self, data: Any, found: Counter[str]) -> Any:
        if not isinstance(data, str):
            return data
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return data
        cleaned = self._bytes(raw, found)
        return data if cleaned is raw else base64.b64encode(cleaned).decode()

    def _file(self, file: Attachment, found: Counter[str]) -> Attachment:
        cleaned = self._bytes(file.data, found)
        return file if cleaned is file.data else dataclasses.replace(file, data=cleaned)

    def _bytes(self, data: bytes, found: Counter[str]) -> bytes:
        """A text file redacted (binary files, like images, are left alone)."""
        try:
            text = data.decode()
        except UnicodeDecodeError:
            return data
        before = sum(found.values())
        cleaned = self._redact(text, found)
        return cleaned.encode() if sum(found.values()) > before else data


def _url_password(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def _settings_secrets(settings: Settings) -> list[Secret]:
    found = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        getter = getattr(value, "get_secret_value", None)
        if getter is not None and getter():
            found.append(Secret(getter(), f"THREADCREW_{name.upper()}"))
    password = _url_password(settings.database_url)
    if password:
        found.append(Secret(password, "the password of THREADCREW_DATABASE_URL"))
    return found


def _team_secrets(config: TeamConfig) -> list[Secret]:
    found = []
    for name, spec in config.models.items():
        if spec.api_key:
            found.append(Secret(spec.api_key, f"team {config.name}: models.{name}.api_key"))
        password = _url_password(spec.base_url)
        if password:
            found.append(Secret(password, f"team {config.name}: the password in models.{name}.base_url"))
    for var, value in config.env_values.items():
        if looks_secret(var):
            found.append(Secret(value, f"team {config.name}: ${{{var}}}"))
    return found


def redactor_for(
    settings: Settings, teams: Iterable[TeamConfig] = (), environ: Mapping[str, str] | None = None
) -> Redactor:
    """The redactor for a bot: the secrets of ``settings``, of the ``teams``' files, and of the
    environment variables whose names look secret (``environ``, default ``os.environ``)."""
    secrets = _settings_secrets(settings)
    for config in teams:
        secrets += _team_secrets(config)
    env = os.environ if environ is None else environ
    secrets += [Secret(value, f"${name}") for name, value in env.items() if looks_secret(name)]
    return Redactor(secrets)
