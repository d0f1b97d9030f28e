"""Requests that claim to come from Slack, checked before Bolt sees them.

Slack signs every request (``X-Slack-Signature``: HMAC-SHA256 of ``v0:{timestamp}:{body}`` with the
app's signing secret) and stamps it (``X-Slack-Request-Timestamp``, refused when older than five
minutes). :func:`check_request` says, without side effects, why a request must be refused: 401
when it is not Slack's (unsigned, wrongly signed, stale), 400 when it is malformed (a timestamp
that is no number, a body that is not the JSON or form Slack sends). The platform's request
handler answers such a request with that status and one log line, so nobody can fill the log
with tracebacks by posting garbage.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.request.async_request import AsyncBoltRequest

__all__ = ["MAX_AGE", "Refusal", "Signed", "check_request", "refused", "signature_of", "unreadable"]

_log = logging.getLogger(__name__)

MAX_AGE = 5 * 60  # seconds: Slack's own rule against replayed requests


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request is refused: the HTTP status to answer and a reason (safe to log and to send)."""

    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class Signed:
    """A request Slack signed, in the shape Bolt reads, as read once."""

    text: str  # the body
    payload: dict[str, Any] | None  # the JSON it carries (a form's ``payload``); None for a slash command's form


def signature_of(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Slack-Signature`` Slack would send for ``body`` at ``timestamp``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def check_request(body: bytes, headers: Mapping[str, str], *, signing_secret: str, now: float) -> Refusal | Signed:
    """Why this request is not one Slack sent, or what it says when it is.

    Args:
        body: the raw request body.
        headers: the request's headers (a case-insensitive mapping, as aiohttp's).
        signing_secret: the app's signing secret.
        now: the current Unix time (injected, for tests).
    """
    timestamp = headers.get("X-Slack-Request-Timestamp", "").strip()
    signature = headers.get("X-Slack-Signature", "").strip()
    if not timestamp or not signature:
        return Refusal(401, "not signed by Slack (no X-Slack-Signature or X-Slack-Request-Timestamp)")
    if not timestamp.isascii() or not timestamp.isdigit():
        return Refusal(400, "the X-Slack-Request-Timestamp is not a number")
    if abs(now - int(timestamp)) > MAX_AGE:
        return Refusal(401, "the X-Slack-Request-Timestamp is more than five minutes off (a replay?)")
    if not hmac.compare_digest(signature_of(signing_secret, timestamp, body), signature):
        return Refusal(401, "the X-Slack-Signature does not match (a wrong signing secret, or not Slack)")
    return _malformed(body, headers.get("Content-Type", ""))


def _malformed(body: bytes, content_type: str) -> Refusal | Signed:
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return Refusal(400, "the body is not UTF-8")
    payload = _payload(text, content_type)
    if isinstance(payload, Refusal):
        return payload
    refusal = unreadable(text if payload is None else payload, content_type)
    return refusal if refusal is not None else Signed(text, payload)


def unreadable(payload: str | dict[str, Any], content_type: str = "application/json") -> Refusal | None:
    """Why Bolt could not read this payload (a body, or the JSON it carries), or None when it can.

    Bolt reads fields of the payload (team, user, authorizations...) and trusts their types.
    """
    try:
        if isinstance(payload, str):
            AsyncBoltRequest(body=payload, headers={"content-type": content_type})
        else:  # as parsed (Bolt takes a parsed body in its Socket Mode only; the fields read are the same)
            AsyncBoltRequest(body=payload, headers={"content-type": content_type}, mode="socket_mode")
    except (TypeError, AttributeError, KeyError, IndexError, ValueError) as exc:
        return Refusal(400, f"the payload has fields of the wrong kind ({type(exc).__name__})")
    return None


def _payload(text: str, content_type: str) -> Refusal | dict[str, Any] | None:
    """The JSON object the body carries; None for a form without one (a slash command's)."""
    if "application/x-www-form-urlencoded" in content_type:
        fields = parse_qs(text)
        if "payload" not in fields:
            return None if fields else Refusal(400, "the form body is empty")
        text = fields["payload"][0]
    elif "application/json" not in content_type:
        return Refusal(400, f"Slack sends JSON or a form, not {content_type or 'a body without a Content-Type'}")
    try:
        parsed = json.loads(text)
    except ValueError:
        return Refusal(400, "the body is not valid JSON")
    return parsed if isinstance(parsed, dict) else Refusal(400, "the body is not a JSON object")


def refused(refusal: Refusal, request: web.Request) -> web.Response:
    """The answer to a refused request, with its one log line (no traceback)."""
    _log.warning("refused a request to %s from %s: %s", request.path, request.remote, refusal.reason)
    return web.json_response({"error": refusal.reason}, status=refusal.status)
