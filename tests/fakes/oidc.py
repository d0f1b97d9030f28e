"""A local OpenID Connect provider for the console's sign-in tests (``async with FakeOIDCProvider()``).

It serves discovery, an authorization endpoint that signs in :attr:`FakeOIDCProvider.user` at once
(no login form) and redirects back with a code, a token endpoint that checks the client's secret,
the redirect URI and the PKCE verifier before it hands out an RS256 ID token, and the JWKS with
its public key. A test makes it misbehave on purpose: another audience, an expired token, another
nonce, a key it does not publish.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import unquote_plus, urlencode

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from .web import LocalFake

__all__ = ["FakeOIDCProvider"]

CLIENT_ID = "console-client"
CLIENT_SECRET = "console-client-secret-123"


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeOIDCProvider(LocalFake):
    """An identity provider on 127.0.0.1: ``issuer`` is its URL once entered."""

    def __init__(self, user: dict[str, Any] | None = None, *, pkce: bool = True) -> None:
        super().__init__()
        self.user: dict[str, Any] = user or {"sub": "u-1", "email": "ada@example.com", "email_verified": True}
        self.pkce = pkce
        self.audience: str | None = None  # another audience than the client's, when set
        self.expires_in = 300  # negative: the ID token has expired already
        self.nonce: str | None = None  # another nonce than the one asked for, when set
        self.unpublished_key = False  # sign with a key the JWKS does not list
        self.authorizations: list[dict[str, str]] = []  # what each /authorize request asked for
        self.token_requests: list[dict[str, str]] = []
        self._key = _rsa_key()
        self._codes: dict[str, dict[str, str]] = {}

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/.well-known/openid-configuration", self._discovery)
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/token", self._token)
        app.router.add_get("/jwks", self._jwks)

    async def _discovery(self, request: web.Request) -> web.Response:
        document: dict[str, Any] = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }
        if self.pkce:
            document["code_challenge_methods_supported"] = ["S256"]
        return web.json_response(document)

    async def _authorize(self, request: web.Request) -> web.Response:
        asked = dict(request.query)
        self.authorizations.append(asked)
        if asked.get("client_id") != CLIENT_ID or asked.get("response_type") != "code":
            return web.Response(status=400, text="unknown client or response type")
        if "openid" not in asked.get("scope", "").split():
            return web.Response(status=400, text="scope must include openid")
        code = secrets.token_urlsafe(16)
        self._codes[code] = asked
        back = urlencode({"code": code, "state": asked.get("state", "")})
        return web.Response(status=302, headers={"Location": f"{asked['redirect_uri']}?{back}"})

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_requests.append({k: str(v) for k, v in form.items()})
        client = _client_of(request, form)
        if client != (CLIENT_ID, CLIENT_SECRET):
            return web.json_response({"error": "invalid_client"}, status=401)
        asked = self._codes.pop(str(form.get("code", "")), None)
        if asked is None or form.get("redirect_uri") != asked["redirect_uri"]:
            return web.json_response({"error": "invalid_grant"}, status=400)
        if "code_challenge" in asked and _challenge(str(form.get("code_verifier", ""))) != asked["code_challenge"]:
            return web.json_response({"error": "invalid_grant", "error_description": "PKCE"}, status=400)
        now = int(time.time())
        claims = {
            **self.user,
            "iss": self.issuer,
            "aud": self.audience or CLIENT_ID,
            "iat": now - 5,
            "exp": now + self.expires_in,
            "nonce": self.nonce or asked.get("nonce", ""),
        }
        key = _rsa_key() if self.unpublished_key else self._key
        token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "other" if self.unpublished_key else "k1"})
        return web.json_response({"access_token": "at", "token_type": "Bearer", "id_token": token})

    async def _jwks(self, request: web.Request) -> web.Response:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return web.json_response({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]})


def _client_of(request: web.Request, form: dict[str, Any]) -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        return unquote_plus(user), unquote_plus(secret)
    return str(form.get("client_id", "")), str(form.get("client_secret", ""))


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
