"""Sign-in with OpenID Connect (any provider, and Slack's "Sign in with Slack"), beside the token.

The authorization code flow: the browser is sent to the provider with a fresh ``state``, ``nonce``
and (where the provider offers it) a PKCE challenge, all three kept in a short-lived signed cookie;
the provider sends it back with a code, which the console exchanges for an ID token. The token's
signature is checked against the provider's published keys (JWKS) and its issuer, audience,
expiry and nonce by PyJWT; then an allow-list says whether that person may use the console.
Nothing here trusts what the browser brings back except through those checks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

import aiohttp
import jwt

from ..errors import StartupError
from ..settings import Settings

__all__ = ["PendingSignIn", "Provider", "SignInFlow", "SignInRefused", "providers_from"]

SLACK_TEAM_CLAIM = "https://slack.com/team_id"
_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")
_LEEWAY = 60  # seconds of clock difference allowed between us and the provider


class SignInRefused(Exception):
    """The provider's answer does not sign anyone in; ``str()`` is safe to show (no token in it)."""


@dataclass(frozen=True, slots=True)
class Provider:
    """An OpenID Connect provider the console trusts, and who of its people may sign in.

    ``key`` names it in the console's URLs (``oidc`` or ``slack``). A person may sign in when
    their verified e-mail is in ``emails``, or its domain in ``domains``, or (Slack) their
    workspace's id in ``teams``.
    """

    key: str
    label: str
    issuer: str
    client_id: str
    client_secret: str
    emails: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()

    def operator(self, claims: Mapping[str, Any]) -> str:
        """The operator's name for verified ``claims`` (their e-mail, else the subject).

        Raises:
            SignInRefused: the allow-list does not name them.
        """
        email = str(claims.get("email") or "").lower()
        verified = claims.get("email_verified", True) not in (False, "false")
        team = str(claims.get(SLACK_TEAM_CLAIM) or "")
        allowed = (bool(email) and verified and (email in self.emails or email.rpartition("@")[2] in self.domains)) or (
            bool(team) and team in self.teams
        )
        if not allowed:
            who = email or str(claims.get("sub", "?"))
            raise SignInRefused(f"{who} is not allowed to use this console (ask its operator to add you)")
        name = email or str(claims["sub"])
        if _NAME.fullmatch(name) is None:
            raise SignInRefused("the provider gave a name the console cannot record; sign in with the token")
        return name


def providers_from(settings: Settings) -> list[Provider]:
    """The sign-in providers the settings configure (none, OpenID Connect, Slack, or both).

    Raises:
        StartupError: a provider is half configured, or configured with nobody allowed in.
    """
    found = []
    if settings.console_oidc_issuer:
        if not settings.console_oidc_client_id or settings.console_oidc_client_secret is None:
            raise StartupError(
                "THREADCREW_CONSOLE_OIDC_ISSUER is set but THREADCREW_CONSOLE_OIDC_CLIENT_ID or "
                "THREADCREW_CONSOLE_OIDC_CLIENT_SECRET is not: set both (from your provider's app registration)"
            )
        emails, domains = _words(settings.console_oidc_allowed_emails), _words(settings.console_oidc_allowed_domains)
        if not emails and not domains:
            raise StartupError(
                "OpenID Connect sign-in lets nobody in: set THREADCREW_CONSOLE_OIDC_ALLOWED_EMAILS and/or "
                "THREADCREW_CONSOLE_OIDC_ALLOWED_DOMAINS (comma-separated)"
            )
        found.append(
            Provider(
                "oidc",
                settings.console_oidc_label,
                settings.console_oidc_issuer.rstrip("/"),
                settings.console_oidc_client_id,
                settings.console_oidc_client_secret.get_secret_value(),
                emails,
                domains,
            )
        )
    if settings.console_slack_sign_in:
        if not settings.slack_client_id or settings.slack_client_secret is None:
            raise StartupError(
                "THREADCREW_CONSOLE_SLACK_SIGN_IN needs the Slack app's THREADCREW_SLACK_CLIENT_ID and "
                "THREADCREW_SLACK_CLIENT_SECRET (its Basic Information page)"
            )
        teams = _words(settings.console_slack_allowed_teams, lower=False)
        if not teams:
            raise StartupError(
                "Sign in with Slack lets nobody in: set THREADCREW_CONSOLE_SLACK_ALLOWED_TEAMS to your "
                "workspace ids (T...), comma-separated"
            )
        secret = settings.slack_client_secret.get_secret_value()
        issuer = settings.console_slack_issuer.rstrip("/")
        found.append(Provider("slack", "Slack", issuer, settings.slack_client_id, secret, teams=teams))
    return found


def _words(text: str, *, lower: bool = True) -> frozenset[str]:
    return frozenset((w.strip().lower() if lower else w.strip()) for w in text.split(",") if w.strip())


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    """What the browser carries (in a signed cookie) while it is away at the provider."""

    provider: str
    state: str
    nonce: str
    verifier: str
    next: str

    def to_json(self) -> dict[str, str]:
        return {"p": self.provider, "s": self.state, "n": self.nonce, "v": self.verifier, "next": self.next}

    @classmethod
    def from_json(cls, data: Any) -> PendingSignIn | None:
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("p", "s", "n", "v", "next")):
            return None
        return cls(data["p"], data["s"], data["n"], data["v"], data["next"])


class SignInFlow:
    """One provider's flow: where to send the browser, and who came back.

    The provider's discovery document is read once; its keys are read again when a token is
    signed with a key the console has not seen (the provider rotated them).
    """

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self._metadata: dict[str, Any] | None = None
        self._keys: jwt.PyJWKSet | None = None

    async def start(self, redirect_uri: str, next_page: str) -> tuple[str, PendingSignIn]:
        """The provider's authorization URL, and what to keep until the browser returns."""
        metadata = await self._discovered()
        pending = PendingSignIn(
            self.provider.key,
            secrets.token_urlsafe(24),
            secrets.token_urlsafe(24),
            secrets.token_urlsafe(48),
            next_page,
        )
        query = {
            "response_type": "code",
            "client_id": self.provider.client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid email profile",
            "state": pending.state,
            "nonce": pending.nonce,
        }
        if "S256" in metadata.get("code_challenge_methods_supported", ()):
            query |= {"code_challenge": _challenge(pending.verifier), "code_challenge_method": "S256"}
        return f"{metadata['authorization_endpoint']}?{urlencode(query)}", pending

    async def finish(self, query: Mapping[str, str], pending: PendingSignIn, redirect_uri: str) -> str:
        """The operator the provider's answer (``query``) signs in.

        Raises:
            SignInRefused: the answer is not for this browser's sign-in, the provider refused, or
                the ID token fails a check, or the allow-list does not name the person.
        """
        if "error" in query:
            raise SignInRefused(f"the provider did not sign you in ({query['error'][:80]})")
        if pending.provider != self.provider.key or not hmac.compare_digest(
            query.get("state", "").encode(), pending.state.encode()
        ):
            raise SignInRefused("the answer does not belong to the sign-in this browser started (state); try again")
        code = query.get("code", "")
        if not code:
            raise SignInRefused("the provider's answer has no code; try again")
        id_token = await self._exchange(code, pending, redirect_uri)
        claims = await self._verified(id_token)
        if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), pending.nonce.encode()):
            raise SignInRefused("the ID token was not issued for this sign-in (nonce); try again")
        return self.provider.operator(claims)

    async def _exchange(self, code: str, pending: PendingSignIn, redirect_uri: str) -> str:
        metadata = await self._discovered()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if "S256" in metadata.get("code_challenge_methods_supported", ()):
            form["code_verifier"] = pending.verifier
        methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        headers = {}
        if "client_secret_basic" in methods:  # RFC 6749 2.3.1: each part form-encoded, then base64
            pair = f"{quote_plus(self.provider.client_id)}:{quote_plus(self.provider.client_secret)}"
            headers["Authorization"] = f"Basic {base64.b64encode(pair.encode()).decode()}"
        else:
            form |= {"client_id": self.provider.client_id, "client_secret": self.provider.client_secret}
        answer = await _fetch(metadata["token_endpoint"], form=form, headers=headers)
        id_token = answer.get("id_token")
        if not isinstance(id_token, str):
            raise SignInRefused("the provider's token endpoint gave no ID token")
        return id_token

    async def _verified(self, id_token: str) -> dict[str, Any]:
        metadata = await self._discovered()
        try:
            header = jwt.get_unverified_header(id_token)
            key = await self._key(str(header.get("kid", "")))
            allowed = [a for a in metadata.get("id_token_signing_alg_values_supported", ["RS256"]) if a in _ALGORITHMS]
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key=key.key,
                algorithms=allowed,
                audience=self.provider.client_id,
                issuer=self.provider.issuer,
                leeway=_LEEWAY,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise SignInRefused("the provider's ID token has expired; sign in again") from None
        except jwt.InvalidAudienceError:
            raise SignInRefused("the ID token was issued for another application (audience)") from None
        except jwt.InvalidIssuerError:
            raise SignInRefused("the ID token comes from another issuer than the one configured") from None
        except jwt.PyJWTError as exc:
            raise SignInRefused(f"the ID token is not valid ({type(exc).__name__})") from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.provider.client_id:
            raise SignInRefused("the ID token was issued for another application (azp)")
        return claims

    async def _key(self, kid: str) -> jwt.PyJWK:
        for fresh in (False, True):
            if self._keys is None or fresh:
                self._keys = jwt.PyJWKSet.from_dict(await _fetch((await self._discovered())["jwks_uri"]))
            for key in self._keys.keys:
                if key.key_id == kid or (not kid and len(self._keys.keys) == 1):
                    return key
        raise SignInRefused("the ID token is signed with a key the provider does not publish")

    async def _discovered(self) -> dict[str, Any]:
        if self._metadata is None:
            metadata = await _fetch(f"{self.provider.issuer}/.well-known/openid-configuration")
            if str(metadata.get("issuer", "")).rstrip("/") != self.provider.issuer:
                raise SignInRefused("the provider's discovery document names another issuer")
            missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if k not in metadata]
            if missing:
                raise SignInRefused(f"the provider's discovery document lacks {', '.join(missing)}")
            self._metadata = metadata
        return self._metadata


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def _fetch(url: str, *, form: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Any:
    """A JSON document from the provider (POSTing ``form`` when given)."""
    timeout = aiohttp.ClientTimeout(total=15)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http:
            request = http.post(url, data=form, headers=headers) if form is not None else http.get(url)
            async with request as response:
                if response.status != 200:
                    raise SignInRefused(f"the provider answered HTTP {response.status}; try again later")
                return await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise SignInRefused(f"the provider cannot be reached ({type(exc).__name__}); try again later") from None
