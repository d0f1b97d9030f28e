"""The web thread over plain HTTP: what the page refuses, and agent text that stays text.
(tests/bot/webconsole/test_browser.py runs the whole flow in a browser.)"""

from __future__ import annotations

import asyncio
import base64
import html
import io
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import typer

from adapters.files import MAX_IMAGE_BYTES
from adapters.web import WebThreadPlatform
from bot.cli.running import _platform_sources
from bot.settings import Settings
from bot.webconsole import web_thread_platform
from bot.webconsole.uploads import TOO_LARGE, UPLOAD_BYTES
from tests.bot.crew import DONE, QUESTION, Crew
from tests.bot.test_vision import models, people_content
from tests.bot.webconsole.console import ConsoleClient, console_bot, signed_in, tiny_png, web_thread_bot
from tests.fakes.openai_server import ScriptedOpenAI
from tests.fakes.terminal import Terminal, clean_env


async def test_the_web_thread_refuses_forged_buttons_and_shows_agent_text_as_text(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    model.say("planner", "<script>alert('pwned')</script>")
    async with web_thread_bot(server, tmp_path) as bot, signed_in(bot, "ops") as client:
        platform = bot.platform
        assert isinstance(platform, WebThreadPlatform)
        csrf = await client.csrf("/web")
        status, _, headers = await client.post("/web", {"csrf": csrf, "text": "chart the squares"})
        assert status == 303
        thread_id = headers["Location"].rsplit("/", 1)[1]
        await platform.wait_for(lambda posts: bool(posts) and bool(posts[-1].message.buttons))

        page = (await client.get(f"/web/{thread_id}"))[1]
        assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in page
        assert "<script>alert" not in page
        assert "ops (console)" in page
        prompt = platform.in_thread(thread_id)[-1]
        assert re.search(rf'name="ref" value="{prompt.id}"', page)

        csrf = await client.csrf(f"/web/{thread_id}")
        for ref, index in ((prompt.id, "7"), (prompt.id, "x"), ("m-none", "0")):
            status, _, _ = await client.post(f"/web/{thread_id}/press", {"csrf": csrf, "ref": ref, "index": index})
            assert status == 400
        forged = {"csrf": "forged", "ref": prompt.id, "index": "0"}
        assert (await client.post(f"/web/{thread_id}/press", forged))[0] == 403
        assert (await client.get("/web/nothing-here"))[0] == 404
        assert (await client.post(f"/web/{thread_id}/say", {"csrf": csrf, "text": "  "}))[0] == 400

        # The first button (Continue) goes through as the operator's press.
        status, _, _ = await client.post(f"/web/{thread_id}/press", {"csrf": csrf, "ref": prompt.id, "index": "0"})
        assert status == 303
        await platform.wait_for(lambda posts: any("let the team go on" in p.text for p in posts))
        [wait, *_] = await bot.db.stores.waits.of_conversation((await bot.db.stores.conversations.recent(1))[0].id)
        assert wait.answered_by == "console:ops"


async def test_without_the_web_platform_the_page_says_how_to_turn_it_on(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with console_bot(server, tmp_path) as bot, signed_in(bot) as client:
        status, text, _ = await client.get("/web")
        assert (status, text) == (404, "The web thread is off: run threadcrew with --platform web.")


def test_the_web_platform_needs_the_console(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit):
        _platform_sources(Settings(data_dir=tmp_path), ["web"])
    assert "the web thread is a page of the web console: set THREADCREW_CONSOLE=true" in capsys.readouterr().err
    [source] = _platform_sources(Settings(data_dir=tmp_path, console=True), ["web"])
    assert source is web_thread_platform  # made on the bot's database, to keep its posts there


async def test_the_web_demo_opens_a_thread_the_browser_can_sign_in_to(tmp_path: Path) -> None:
    """``threadcrew demo --web``: the demo team already at work in a web thread, behind a sign-in."""
    env = clean_env({"THREADCREW_DATA_DIR": str(tmp_path / "data"), "THREADCREW_HTTP_PORT": "0"})
    with Terminal(["demo", "--web"], env=env, cwd=tmp_path) as term:
        shown = await asyncio.to_thread(term.expect, "Ctrl-C stops the demo.")
        found = re.search(r"Open (http://127\.0\.0\.1:\d+/console)/web/(\S+) .*this token: (\S+)", shown)
        assert found is not None, shown
        base, thread_id, token = found.groups()
        client = ConsoleClient(base)
        try:
            assert (await client.get(f"/web/{thread_id}"))[0] == 303  # a sign-in first
            assert (await client.sign_in("visitor", token))[0] == 303
            # The page's live stream brings the team's posts, up to the approval it waits for.
            page = ""
            async with client.http.get(f"{base}/web/{thread_id}/events") as stream:
                while "button-approve" not in page:
                    page += (await asyncio.wait_for(stream.content.readany(), 30)).decode()
            assert '<span class="author">you</span>' in page  # the task, by the person who started the demo
            assert '<span class="author">Planner</span>' in page  # the demo team, in its personas
            assert '<span class="author">Coder</span>' in page
        finally:
            await client.close()


async def test_the_web_threads_posts_outlive_a_restart_and_the_thread_goes_on(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with web_thread_bot(server, tmp_path) as bot, signed_in(bot, "ops") as client:
        csrf = await client.csrf("/web")
        status, _, headers = await client.post("/web", {"csrf": csrf, "text": "chart the squares"})
        thread_id = headers["Location"].rsplit("/", 1)[1]
        await bot.platform.wait_for(lambda posts: any(QUESTION in p.text for p in posts))
        await bot.idle()
        before = [(p.id, p.author, p.text) for p in bot.platform.in_thread(thread_id)]
    assert len(before) >= 4  # the task, the agents' replies, the question to the people

    async with web_thread_bot(server, tmp_path) as bot, signed_in(bot, "ops") as client:
        status, listing, _ = await client.get("/web")
        assert status == 200
        assert f"/console/web/{thread_id}" in listing
        status, page, _ = await client.get(f"/web/{thread_id}")
        assert status == 200
        assert "chart the squares" in page
        assert html.escape(QUESTION) in page
        assert [(p.id, p.author, p.text) for p in bot.platform.in_thread(thread_id)] == before

        csrf = await client.csrf(f"/web/{thread_id}")
        assert (await client.post(f"/web/{thread_id}/say", {"csrf": csrf, "text": "yes, that is right"}))[0] == 303
        await bot.platform.wait_for(lambda posts: any(DONE.split(".")[0] in p.text for p in posts))
        ids = [p.id for p in bot.platform.in_thread(thread_id)]
        assert len(ids) == len(set(ids))  # a new post never takes an old one's id
        assert ids[: len(before)] == [i for i, _, _ in before]


async def test_images_attached_on_the_page_reach_a_vision_model_and_the_refused_ones_are_named(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    png = tiny_png()
    too_large = png + bytes(MAX_IMAGE_BYTES)
    files = [("chart.png", png), ("notes.txt", b"hello"), ("huge.png", too_large)]
    files += [(f"more{i}.png", png) for i in range(1, 5)]
    async with (
        web_thread_bot(server, tmp_path, models=models(server.base_url, vision=True)) as bot,
        signed_in(bot, "ops") as client,
    ):
        csrf = await client.csrf("/web")
        forged = await post_files(client, "/web", "forged", "explain my charts", files[:1])
        assert forged[0] == 403
        status, headers = await post_files(client, "/web", csrf, "explain my charts", files)
        assert status == 303
        thread_id = headers["Location"].rsplit("/", 1)[1]
        await model.arrived("planner")
        told = await bot.platform.wait_for(lambda posts: any("does not see every file" in p.text for p in posts))
        page = (await client.get(f"/web/{thread_id}"))[1]
        whole = png * (UPLOAD_BYTES // len(png) + 1)
        status, text = await post_files(client, f"/web/{thread_id}/say", csrf, "", [("whole.png", whole)])

    content = people_content(model, "planner")[0]
    assert [p["image_url"]["url"] for p in content if p["type"] == "image_url"] == [png_url(png)] * 4
    assert [p["text"] for p in content if p["type"] == "text"] == [
        "explain my charts",
        "[image chart.png]",
        "[image more1.png]",
        "[image more2.png]",
        "[image more3.png]",
        "[notes.txt attached; only images reach the team]",
        "[huge.png attached; larger than the images passed on]",
        "[more4.png attached; more images than one message passes on]",
    ]
    [note] = [p.text for p in told if "does not see every file" in p.text]
    assert "- notes.txt: only images reach the team" in note
    assert "- huge.png: larger than the images passed on (8.0 MB)" in note
    assert "- more4.png: more images than one message passes on" in note
    assert page.count(f"/console/web/{thread_id}/files/") >= 4 * 2  # each image shown, and linked
    assert (status, text) == (413, TOO_LARGE)


def png_url(png: bytes) -> str:
    return f"data:image/png;base64,{base64.b64encode(png).decode()}"


async def post_files(
    client: ConsoleClient, path: str, csrf: str, text: str, files: list[tuple[str, bytes]]
) -> tuple[int, Any]:
    """A form of the web thread's page sent as the browser sends it, with ``files`` as its images."""
    form = aiohttp.FormData()
    form.add_field("csrf", csrf)
    form.add_field("text", text)
    for name, data in files:
        kind = "image/png" if name.endswith(".png") else "text/plain"
        form.add_field("images", io.BytesIO(data), filename=name, content_type=kind)
    async with client.http.post(client.base + path, data=form, allow_redirects=False) as response:
        return response.status, response.headers if response.status != 413 else await response.text()
