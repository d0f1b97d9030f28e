"""The console's live pages (a transcript, a web thread) hear of a change in this process at once,
and look on a slow timer for the others' (bot processes sharing PostgreSQL)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from adapters import Author
from adapters.web import WebThreadPlatform
from tests.bot.crew import QUESTION, Crew
from tests.bot.webconsole.console import signed_in, waiting_run, web_thread_bot
from tests.fakes.openai_server import ScriptedOpenAI


async def read_until(stream: aiohttp.ClientResponse, seen: bytes, wanted: bytes) -> bytes:
    """``seen`` and what the stream sends next, until ``wanted`` is in it."""
    while wanted not in seen:
        seen += await stream.content.readany()
    return seen


async def test_a_new_message_reaches_an_open_stream_without_waiting_for_the_slow_poll(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with waiting_run(server, tmp_path) as (bot, cid), signed_in(bot) as client:
        assert bot.bot.console is not None
        bot.bot.console.fallback_poll_seconds = 3600  # only word of the change can wake the stream in time
        async with client.http.get(f"{client.base}/c/{cid}/events?after=0") as stream, asyncio.timeout(20):
            seen = await read_until(stream, b"", b"event: panel")
            assert b"Bars, please." not in seen
            await bot.platform.say("t1", "Bars, please.")
            seen = await read_until(stream, seen, b"Bars, please.")
    assert b"event: message" in seen.split(b"Bars, please.")[0]


async def test_a_new_post_reaches_an_open_web_thread_page_without_waiting_for_the_slow_poll(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with web_thread_bot(server, tmp_path) as bot, signed_in(bot) as client:
        assert bot.bot.console is not None
        bot.bot.console.fallback_poll_seconds = 3600
        platform = bot.platform
        assert isinstance(platform, WebThreadPlatform)
        ops = Author("console:ops", "ops")
        thread = await platform.start(ops, "chart the squares")
        await platform.wait_for(lambda posts: any(QUESTION in p.text for p in posts))
        await bot.idle()
        async with client.http.get(f"{client.base}/web/{thread.thread_id}/events") as stream, asyncio.timeout(20):
            seen = await read_until(stream, b"", b"event: posts")
            assert b"Bars, please." not in seen
            await platform.write(thread.thread_id, ops, "Bars, please.")
            await read_until(stream, seen, b"Bars, please.")
