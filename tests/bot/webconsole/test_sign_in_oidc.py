"""Sign-in with OpenID Connect and with Slack, against a local fake identity provider, over HTTP:
the whole code flow, and each refusal (bad state, another audience, an expired token, another
nonce, an unpublished key, someone not on the allow-list)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.errors import StartupError
from bot.settings import Settings
from bot.webconsole.oidc import providers_from
from tests.bot.crew import Crew, RunningBot, crew_bot
from tests.bot.webconsole.console import CONSOLE_SETTINGS, ConsoleClient, console_url, oidc_settings
from tests.fakes.oidc import CLIENT_ID, CLIENT_SECRET, FakeOIDCProvider
from tests.fakes.openai_server import ScriptedOpenAI


@asynccontextmanager
async def sso_bot(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, idp: FakeOIDCProvider, **more: Any
) -> AsyncIterator[tuple[RunningBot, ConsoleClient]]:
    async with crew_bot(crew[1], tmp_path, settings=oidc_settings(idp, **more)) as bot:
        client = ConsoleClient(console_url(bot))
        try:
            yield bot, client
        finally:
            await client.close()


async def through_provider(client: ConsoleClient, provider: str = "oidc", **tamper: str) -> tuple[int, str, Any]:
    """Start a sign-in, let the provider answer, come back (with ``tamper`` replacing the answer's fields)."""
    status, _, headers = await client.get(f"/sign-in/{provider}?next=/console/usage")
    assert status == 302
    async with client.http.get(headers["Location"], allow_redirects=False) as answer:
        assert answer.status == 302, await answer.text()
        back = urlsplit(answer.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(back.query).items()} | tamper
    assert back.path == f"/console/sign-in/{provider}/callback"
    return await client.get(back.path.removeprefix("/console"), params=query)


async def signed_in_as(client: ConsoleClient) -> str | None:
    status, html, _ = await client.get("/usage")
    if status != 200:
        return None
    start = html.index('id="operator">') + len('id="operator">')
    return html[start : html.index("<", start)]


async def test_an_allowed_person_signs_in_with_the_code_flow_state_nonce_and_pkce(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    async with FakeOIDCProvider() as idp, sso_bot(crew, tmp_path, idp) as (_, client):
        status, html, _ = await client.get("/sign-in")
        assert 'id="sign-in-oidc"' in html
        assert "Sign in with Example SSO" in html
        status, _, headers = await through_provider(client)
        assert (status, headers["Location"]) == (303, "/console/usage")
        assert await signed_in_as(client) == "ada@example.com"
        [asked] = idp.authorizations
        assert asked["redirect_uri"].endswith("/console/sign-in/oidc/callback")
        assert asked["code_challenge_method"] == "S256"
        assert len(asked["state"]) >= 20
        assert len(asked["nonce"]) >= 20
        [token_request] = idp.token_requests
        assert token_request["code_verifier"]  # the fake checked it against the challenge
        assert "client_secret" not in token_request  # sent as HTTP basic auth, as offered first


async def test_the_answer_to_another_browsers_sign_in_is_refused(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    async with FakeOIDCProvider() as idp, sso_bot(crew, tmp_path, idp) as (bot, client):
        status, html, _ = await through_provider(client, state="forged-state")
        assert status == 403
        assert "Sign-in refused: the answer does not belong to the sign-in this browser started" in html
        assert idp.token_requests == []  # the code was never exchanged
        assert await signed_in_as(client) is None
        # Without the cookie of a sign-in under way (another browser), the same.
        other = ConsoleClient(console_url(bot))
        try:
            status, html, _ = await other.get("/sign-in/oidc/callback", params={"code": "c", "state": "s"})
            assert status == 403
            assert "no sign-in under way" in html
        finally:
            await other.close()


@pytest.mark.parametrize(
    ("tamper", "refusal"),
    [
        ({"audience": "another-app"}, "issued for another application (audience)"),
        ({"expires_in": -600}, "ID token has expired"),
        ({"nonce": "another-nonce"}, "not issued for this sign-in (nonce)"),
        ({"unpublished_key": True}, "signed with a key the provider does not publish"),
    ],
)
async def test_an_id_token_that_fails_a_check_signs_nobody_in(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, tamper: dict[str, Any], refusal: str
) -> None:
    async with FakeOIDCProvider() as idp, sso_bot(crew, tmp_path, idp) as (_, client):
        for name, value in tamper.items():
            setattr(idp, name, value)
        status, html, _ = await through_provider(client)
        assert status == 403
        assert refusal in html
        assert "eyJ" not in html  # no token shown
        assert await signed_in_as(client) is None


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        ({"sub": "u2", "email": "bob@ops.example.org", "email_verified": True}, True),  # an allowed domain
        ({"sub": "u3", "email": "mallory@elsewhere.example", "email_verified": True}, False),
        ({"sub": "u4", "email": "ada@example.com", "email_verified": False}, False),  # not verified
        ({"sub": "u5"}, False),  # no e-mail at all
    ],
)
async def test_only_people_on_the_allow_list_sign_in(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, user: dict[str, Any], allowed: bool
) -> None:
    async with FakeOIDCProvider(user) as idp, sso_bot(crew, tmp_path, idp) as (_, client):
        status, html, _ = await through_provider(client)
        assert status == (303 if allowed else 403)
        assert (await signed_in_as(client)) == (user["email"] if allowed else None)
        if not allowed:
            assert "is not allowed to use this console" in html


async def test_sign_in_with_slack_lets_in_the_allowed_workspaces_only(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    """Slack's OpenID Connect (no PKCE offered; secrets in the form), its team claim on the allow-list."""
    member = {"sub": "U1", "email": "ada@team.example", "https://slack.com/team_id": "T-OURS"}
    async with FakeOIDCProvider(member, pkce=False) as idp:
        slack = {
            **CONSOLE_SETTINGS,
            "console_slack_sign_in": True,
            "console_slack_issuer": idp.issuer,
            "console_slack_allowed_teams": "T-OURS",
            "slack_client_id": CLIENT_ID,
            "slack_client_secret": CLIENT_SECRET,
        }
        async with crew_bot(crew[1], tmp_path, settings=slack) as bot:
            client = ConsoleClient(console_url(bot))
            try:
                status, _, _ = await through_provider(client, "slack")
                assert status == 303
                assert await signed_in_as(client) == "ada@team.example"
                assert "code_challenge" not in idp.authorizations[0]
                idp.user = {**member, "https://slack.com/team_id": "T-OTHER"}
                stranger = ConsoleClient(console_url(bot))
                try:
                    status, html, _ = await through_provider(stranger, "slack")
                    assert status == 403
                    assert "is not allowed to use this console" in html
                    assert await signed_in_as(stranger) is None
                finally:
                    await stranger.close()
            finally:
                await client.close()


async def test_an_unreachable_provider_is_said_plainly(crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path) -> None:
    async with FakeOIDCProvider() as idp:
        settings = oidc_settings(idp)
    async with crew_bot(crew[1], tmp_path, settings=settings) as bot:  # the provider has gone
        client = ConsoleClient(console_url(bot))
        try:
            status, html, _ = await client.get("/sign-in/oidc")
            assert status == 502
            assert "the provider cannot be reached" in html
            status, _, _ = await client.get("/sign-in/nobody")
            assert status == 404
        finally:
            await client.close()


def test_a_provider_without_an_allow_list_or_secret_stops_start_up() -> None:
    base: dict[str, Any] = {"console_oidc_issuer": "https://idp.example", "console_oidc_client_id": "c"}
    with pytest.raises(StartupError, match="CONSOLE_OIDC_CLIENT_SECRET"):
        providers_from(Settings(**base))
    with pytest.raises(StartupError, match="CONSOLE_OIDC_ALLOWED_EMAILS"):
        providers_from(Settings(**base, console_oidc_client_secret="s"))
    with pytest.raises(StartupError, match="SLACK_CLIENT_ID"):
        providers_from(Settings(console_slack_sign_in=True))
    with pytest.raises(StartupError, match="CONSOLE_SLACK_ALLOWED_TEAMS"):
        providers_from(Settings(console_slack_sign_in=True, slack_client_id="c", slack_client_secret="s"))
    assert providers_from(Settings()) == []


async def test_the_provider_cookie_is_lax_http_only_and_scoped_to_sign_in(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    async with FakeOIDCProvider() as idp, sso_bot(crew, tmp_path, idp) as (_, client):
        async with client.http.get(client.base + "/sign-in/oidc", allow_redirects=False) as response:
            cookie = response.cookies["threadcrew_console_sign_in"]
        assert cookie["samesite"] == "Lax"
        assert cookie["httponly"]
        assert cookie["path"] == "/console/sign-in"
