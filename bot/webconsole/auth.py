"""Who may use the console: sessions in signed cookies, CSRF tokens, sign-in with the settings' token.

A session is a signed cookie (itsdangerous) holding the operator's name and a CSRF token; it is
HttpOnly, SameSite=Strict, ``Secure`` when the console is served over https, and expires. Every
POST must carry the session's CSRF token in a hidden field (compared in constant time); every
page but the sign-in page needs a signed-in session. The signing key is derived from the
sign-in token, so changing the token signs everyone out.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from itsdangerous import BadSignature, URLSafeTimedSerializer

from .uploads import TOO_LARGE, UPLOAD_BYTES, discard_files

__all__ = [
    "COOKIE",
    "NEW_SESSION",
    "PENDING_COOKIE",
    "SESSION",
    "SIGNED_OUT",
    "FailedSignIns",
    "Session",
    "SessionCodec",
    "guard",
    "operator_name",
    "valid_name",
]

COOKIE = "threadcrew_console"
PENDING_COOKIE = "threadcrew_console_sign_in"  # a sign-in under way at an identity provider
PREFIX = "/console"
PENDING_SECONDS = 600
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
_PUBLIC = {"sign_in", "sign_in_with", "signed_in_with", "static"}  # routes that need no signed-in session
# Pages: a browser asking for them without a session is sent to sign in.
_UPLOADS = {"web_threads", "web_say"}  # forms that may carry images (see uploads.py)
_PAGES = {"conversations", "transcript", "usage", "teams", "schedules", "web_threads", "web_thread"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SECURITY_HEADERS = {
    # Only our own script and style; images from us; no framing, no referrer leaking thread ids.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True, slots=True)
class Session:
    """A browser's session: the operator once signed in (``name``), and its CSRF token."""

    name: str | None
    csrf: str

    @classmethod
    def anonymous(cls) -> Session:
        return cls(None, secrets.token_urlsafe(32))

    @classmethod
    def signed_in(cls, name: str) -> Session:
        return cls(name, secrets.token_urlsafe(32))  # a new token on sign-in: no session fixation

    def csrf_matches(self, sent: str) -> bool:
        return hmac.compare_digest(sent.encode(), self.csrf.encode())


SESSION = web.RequestKey("session", Session)
NEW_SESSION = web.RequestKey("new_session", Session)  # a session to write into the cookie
SIGNED_OUT = web.RequestKey("signed_out", bool)


def operator_name(request: web.Request) -> str:
    """The signed-in operator's name (the middleware lets no one else through)."""
    name = request[SESSION].name
    if name is None:
        raise web.HTTPUnauthorized(text=f"Sign in first: {PREFIX}/sign-in")
    return name


def valid_name(name: str) -> bool:
    """An operator's name: letters, digits, ``.``, ``_``, ``-``; 1 to 40 characters."""
    return _NAME.fullmatch(name) is not None


class SessionCodec:
    """Reads and writes the session cookie.

    Args:
        token: the sign-in token (the signing key is derived from it).
        max_age: seconds a session lasts.
        secure: mark the cookie ``Secure`` (the console is served over https).
    """

    def __init__(self, token: str, max_age: float, *, secure: bool) -> None:
        key = hmac.new(token.encode(), b"threadcrew console sessions", hashlib.sha256).hexdigest()
        self._serializer = URLSafeTimedSerializer(key, salt="threadcrew-console-session")
        self._pending = URLSafeTimedSerializer(key, salt="threadcrew-console-sign-in")
        self._token = token
        self.max_age = int(max_age)
        self.secure = secure

    def token_matches(self, sent: str) -> bool:
        return hmac.compare_digest(sent.encode(), self._token.encode())

    def read(self, request: web.Request) -> Session | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data: Any = self._serializer.loads(raw, max_age=self.max_age)
        except BadSignature:  # forged, altered or expired
            return None
        if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
            return None
        name = data.get("name")
        return Session(name if isinstance(name, str) else None, data["csrf"])

    def write(self, response: web.StreamResponse, session: Session, request: web.Request) -> None:
        value = self._serializer.dumps({"name": session.name, "csrf": session.csrf})
        response.set_cookie(
            COOKIE,
            value,
            max_age=self.max_age,
            path=PREFIX,
            httponly=True,
            samesite="Strict",
            secure=self.secure or request.secure,
        )

    @staticmethod
    def clear(response: web.StreamResponse) -> None:
        response.del_cookie(COOKIE, path=PREFIX)

    def write_pending(self, response: web.StreamResponse, value: Any, request: web.Request) -> None:
        """Keep ``value`` while the browser is away at an identity provider.

        SameSite=Lax, not Strict: the provider's redirect back is a navigation from another site,
        on which a Strict cookie would not come back.
        """
        response.set_cookie(
            PENDING_COOKIE,
            self._pending.dumps(value),
            max_age=PENDING_SECONDS,
            path=f"{PREFIX}/sign-in",
            httponly=True,
            samesite="Lax",
            secure=self.secure or request.secure,
        )

    def read_pending(self, request: web.Request) -> Any:
        """What :meth:`write_pending` kept, or None (none, forged, or older than ten minutes)."""
        raw = request.cookies.get(PENDING_COOKIE)
        if not raw:
            return None
        try:
            return self._pending.loads(raw, max_age=PENDING_SECONDS)
        except BadSignature:
            return None

    @staticmethod
    def clear_pending(response: web.StreamResponse) -> None:
        response.del_cookie(PENDING_COOKIE, path=f"{PREFIX}/sign-in")


class FailedSignIns:
    """Slows down guessing: at most ``limit`` failed sign-ins per address in ``window`` seconds."""

    def __init__(self, limit: int = 10, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, collections.deque[float]] = {}

    def _recent(self, address: str) -> collections.deque[float]:
        failures = self._failures.setdefault(address, collections.deque())
        while failures and failures[0] <= self.clock() - self.window:
            failures.popleft()
        if not failures:
            del self._failures[address]  # keeps nothing for addresses that stopped failing
        return failures

    def blocked(self, address: str) -> bool:
        return len(self._recent(address)) >= self.limit

    def failed(self, address: str) -> None:
        self._failures.setdefault(address, collections.deque()).append(self.clock())


def guard(codec: SessionCodec) -> Any:
    """The console's middleware: a session for every request, CSRF on every POST, sign-in for every page."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        session = codec.read(request)
        resource = request.match_info.route.resource
        route = resource.name if resource is not None else None
        if request.method != "POST":
            return await admit(request, handler, session, route)
        if route in _UPLOADS and session is not None and session.name is not None:
            request = request.clone(client_max_size=UPLOAD_BYTES)  # only for people signed in
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            if route not in _UPLOADS:
                raise
            return _secured(web.Response(status=413, text=TOO_LARGE))
        try:
            sent = form.get("csrf")
            if session is None or not isinstance(sent, str) or not session.csrf_matches(sent):
                return _secured(
                    web.Response(
                        status=403, text="The form's security token does not match your session: reload the page."
                    )
                )
            return await admit(request, handler, session, route)
        finally:
            discard_files(form)

    async def admit(
        request: web.Request, handler: Handler, session: Session | None, route: str | None
    ) -> web.StreamResponse:
        """``handler``'s answer for a signed-in person (or a public page), with the session's cookie."""
        if route not in _PUBLIC and (session is None or session.name is None):
            if request.method == "GET" and route in _PAGES:
                target = f"{PREFIX}/sign-in?next={request.rel_url.path}"
                return _secured(web.Response(status=303, headers={"Location": target}))
            return _secured(web.Response(status=401, text=f"Sign in first: {PREFIX}/sign-in"))
        if session is None:
            session = Session.anonymous()
            request[NEW_SESSION] = session
        request[SESSION] = session
        response = await handler(request)
        replaced = request.get(NEW_SESSION)
        if replaced is not None and not response.prepared:
            codec.write(response, replaced, request)
        if request.get(SIGNED_OUT) and not response.prepared:
            codec.clear(response)
        return _secured(response)

    return middleware


def _secured(response: web.StreamResponse) -> web.StreamResponse:
    if not response.prepared:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
    return response
