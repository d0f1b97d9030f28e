"""The bot with its web console on, and an HTTP client that signs in and acts like a browser."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from adapters.web import WebThreadPlatform
from bot.platform_state import DatabaseStateStore
from storage import Database
from tests.bot.crew import RunningBot, crew_bot, settings_for, until_waiting
from tests.fakes.oidc import CLIENT_ID, CLIENT_SECRET, FakeOIDCProvider
from tests.fakes.openai_server import ScriptedOpenAI

TOKEN = "test-console-token-0123456789"
CONSOLE_SETTINGS = {"console": True, "console_token": TOKEN}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def tiny_png(width: int = 40, height: int = 20) -> bytes:
    """A small, valid, all-blue PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x20\x40\xc0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@asynccontextmanager
async def console_bot(server: ScriptedOpenAI, tmp_path: Path, **team: Any) -> AsyncIterator[RunningBot]:
    """The crew's bot with the console on (and ``team`` overriding the crew's file)."""
    async with crew_bot(server, tmp_path, settings=CONSOLE_SETTINGS, **team) as bot:
        yield bot


@asynccontextmanager
async def web_thread_bot(server: ScriptedOpenAI, tmp_path: Path, **team: Any) -> AsyncIterator[RunningBot]:
    """The crew's bot on the web thread (``--platform web``), with the console on; the thread's posts
    are kept in the bot's database (as ``threadcrew run`` keeps them), so a second one shows them."""
    db = Database(settings_for(tmp_path / "data").effective_database_url)
    try:
        platform = WebThreadPlatform(DatabaseStateStore(db, "web"))
        async with crew_bot(server, tmp_path, platform, settings=CONSOLE_SETTINGS, **team) as bot:
            yield bot
    finally:
        await db.close()


@asynccontextmanager
async def waiting_run(server: ScriptedOpenAI, tmp_path: Path) -> AsyncIterator[tuple[RunningBot, int]]:
    """The console's bot with a run in thread t1 that waits for people; yields it and the conversation's id."""
    async with console_bot(server, tmp_path) as bot:
        await until_waiting(bot)
        yield bot, (await bot.conversation("t1")).id


def oidc_settings(idp: FakeOIDCProvider, **more: Any) -> dict[str, Any]:
    """The console's settings with sign-in through ``idp`` (Ada, and anyone at ops.example.org, allowed)."""
    return {
        **CONSOLE_SETTINGS,
        "console_oidc_issuer": idp.issuer,
        "console_oidc_client_id": CLIENT_ID,
        "console_oidc_client_secret": CLIENT_SECRET,
        "console_oidc_label": "Example SSO",
        "console_oidc_allowed_emails": "ada@example.com",
        "console_oidc_allowed_domains": "ops.example.org",
        **more,
    }


def between(page: str, start: str, end: str) -> str:
    """The part of ``page`` after ``start``, up to the next ``end``."""
    at = page.index(start) + len(start)
    return page[at : page.index(end, at)]


def console_url(bot: RunningBot) -> str:
    assert bot.bot.web is not None, "the console needs the web server"
    return f"{bot.bot.web.url}/console"


class ConsoleClient:
    """An HTTP client with a cookie jar, as a browser would be."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # 127.0.0.1 is an IP

    async def close(self) -> None:
        await self.http.close()

    async def get(self, path: str, **kwargs: Any) -> tuple[int, str, Any]:
        async with self.http.get(self.base + path, allow_redirects=False, **kwargs) as response:
            return response.status, await response.text(), response.headers

    async def post(self, path: str, data: dict[str, str]) -> tuple[int, str, Any]:
        async with self.http.post(self.base + path, data=data, allow_redirects=False) as response:
            return response.status, await response.text(), response.headers

    async def csrf(self, path: str = "/sign-in") -> str:
        status, html, _ = await self.get(path)
        assert status == 200, html
        found = _CSRF.search(html)
        assert found is not None, "no CSRF field on the page"
        return found.group(1)

    async def sign_in(self, name: str, token: str = TOKEN) -> tuple[int, str, Any]:
        csrf = await self.csrf()
        return await self.post("/sign-in", {"csrf": csrf, "name": name, "token": token, "next": "/console/"})

    async def act(self, conversation_id: int, action: str, **fields: str) -> tuple[int, str, Any]:
        csrf = await self.csrf(f"/c/{conversation_id}")
        return await self.post(f"/c/{conversation_id}/act", {"csrf": csrf, "action": action, **fields})


@asynccontextmanager
async def signed_in(bot: RunningBot, name: str = "ops") -> AsyncIterator[ConsoleClient]:
    client = ConsoleClient(console_url(bot))
    try:
        status, _, _ = await client.sign_in(name)
        assert status == 303
        yield client
    finally:
        await client.close()
