"""The console's safety: sign-in, sessions, CSRF, approvers, and agent text that stays text.

Plain HTTP (aiohttp's client) against the bot on the in-memory platform and the scripted
OpenAI server; tests/bot/webconsole/test_browser.py drives a real browser.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bot.errors import StartupError
from storage import NewMessage
from tests.bot.crew import QUESTION, Crew, crew_bot, in_thread, until_waiting
from tests.bot.test_threads import coding_crew
from tests.bot.webconsole.console import (
    TOKEN,
    ConsoleClient,
    console_bot,
    console_url,
    signed_in,
    tiny_png,
    waiting_run,
)
from tests.fakes.openai_server import ScriptedOpenAI


def has_buttons(posts: list) -> bool:
    return bool(posts) and bool(posts[-1].message.buttons)


async def test_the_console_refuses_to_start_without_a_token(crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path) -> None:
    _, server = crew
    with pytest.raises(StartupError, match="THREADCREW_CONSOLE_TOKEN"):
        async with crew_bot(server, tmp_path, settings={"console": True}):
            pass


async def test_the_console_refuses_a_short_token(crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path) -> None:
    _, server = crew
    with pytest.raises(StartupError, match="THREADCREW_CONSOLE_TOKEN is shorter than 16 characters"):
        async with crew_bot(server, tmp_path, settings={"console": True, "console_token": "secret"}):
            pass


async def test_without_a_session_pages_send_you_to_sign_in_and_the_rest_is_refused(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with waiting_run(server, tmp_path) as (bot, cid):
        client = ConsoleClient(console_url(bot))
        try:
            status, _, headers = await client.get("/")
            assert (status, headers["Location"]) == (303, "/console/sign-in?next=/console/")
            status, _, headers = await client.get(f"/c/{cid}")
            assert (status, headers["Location"]) == (303, f"/console/sign-in?next=/console/c/{cid}")
            for page in ("/usage", "/teams", "/schedules", "/web"):
                status, _, headers = await client.get(page)
                assert (status, headers["Location"]) == (303, f"/console/sign-in?next=/console{page}")
            assert (await client.get(f"/c/{cid}/events"))[0] == 401
            assert (await client.get(f"/files/{cid}/0"))[0] == 401
            # A form with the anonymous session's own CSRF token still needs a sign-in.
            csrf = await client.csrf()
            assert (await client.post(f"/c/{cid}/act", {"csrf": csrf, "action": "stop"}))[0] == 401
            # A wrong token signs nobody in.
            status, html, _ = await client.sign_in("eve", token="guess")
            assert status == 403
            assert "not the console&#39;s token" in html
            assert (await client.get("/"))[0] == 303
            # Guessing is slowed down: after ten wrong tokens, even the right one waits a minute.
            for _ in range(9):
                assert (await client.sign_in("eve", token="guess"))[0] == 403
            status, html, _ = await client.sign_in("eve")
            assert status == 429
            assert "Too many wrong tokens" in html
        finally:
            await client.close()
        assert (await bot.conversation("t1")).status == "waiting"  # nothing was stopped


async def test_signing_in_gives_a_signed_httponly_strict_cookie_and_signing_out_ends_it(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with console_bot(server, tmp_path) as bot:
        client = ConsoleClient(console_url(bot))
        try:
            csrf = await client.csrf()
            async with client.http.post(
                f"{client.base}/sign-in",
                data={"csrf": csrf, "name": "ops", "token": TOKEN, "next": "https://elsewhere.example/"},
                allow_redirects=False,
            ) as response:
                assert response.status == 303
                assert response.headers["Location"] == "/console/"  # never to another site
                cookie = response.headers["Set-Cookie"]
            assert "HttpOnly" in cookie
            assert "SameSite=Strict" in cookie
            assert "Path=/console" in cookie
            assert TOKEN not in cookie
            status, html, headers = await client.get("/")
            assert status == 200
            assert 'id="operator">ops<' in html
            assert "script-src 'self'" in headers["Content-Security-Policy"]
            assert headers["X-Frame-Options"] == "DENY"

            # An altered cookie is no session.
            value = next(c for c in client.http.cookie_jar if c.key == "threadcrew_console").value
            forged = ConsoleClient(client.base)
            forged.http.cookie_jar.update_cookies({"threadcrew_console": value[:-2] + "xx"}, response.url)
            try:
                assert (await forged.get("/"))[0] == 303
            finally:
                await forged.close()

            csrf = await client.csrf("/")
            assert (await client.post("/sign-out", {"csrf": csrf}))[0] == 303
            assert (await client.get("/"))[0] == 303
        finally:
            await client.close()


async def test_a_forged_csrf_token_is_refused(crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path) -> None:
    _, server = crew
    async with waiting_run(server, tmp_path) as (bot, cid):
        async with signed_in(bot) as client:
            real = await client.csrf(f"/c/{cid}")
            altered = real[:-1] + ("B" if real.endswith("A") else "A")  # one character off
            for forged in ("", "x" * 43, altered):
                status, text, _ = await client.post(f"/c/{cid}/act", {"csrf": forged, "action": "stop"})
                assert status == 403, forged
                assert "security token" in text
            async with client.http.post(f"{client.base}/c/{cid}/act", data={"action": "stop"}) as response:
                assert response.status == 403  # none at all
        await bot.idle()
        assert (await bot.conversation("t1")).status == "waiting"
        assert not any("Stopped by" in p.text for p in bot.platform.posts)


async def test_only_an_approver_approves_from_the_console(crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path) -> None:
    model, server = crew
    coding_crew(model)
    async with console_bot(server, tmp_path, approvers=["console:boss"]) as bot:
        await bot.platform.mention("t1", "compute six times seven")
        await bot.platform.wait_for(has_buttons)
        cid = (await bot.conversation("t1")).id
        [wait] = await bot.db.stores.waits.open_waits()
        assert wait.kind == "approval"

        async with signed_in(bot, "mallory") as mallory:
            status, text, _ = await mallory.act(cid, "approve")
            assert status == 403
            assert "console:mallory is not one of the approvers" in text
        assert (await bot.db.stores.waits.open_waits()) == [wait]

        async with signed_in(bot, "boss") as boss:
            status, _, headers = await boss.act(cid, "approve")
            assert status == 303
            assert headers["Location"] == f"/console/c/{cid}?done=approve"
            assert "approve sent as console:boss" in (await boss.get(headers["Location"].removeprefix("/console")))[1]
            assert 'id="notice"' not in (await boss.get(f"/c/{cid}?done=Your+account+is+locked"))[1]
            await bot.platform.wait_for(in_thread("t1"))
            answered, question = await bot.db.stores.waits.of_conversation(cid)
            assert question.kind == "question"
            assert (answered.answer, answered.answered_by) == ("approve", "console:boss")
            assert any(p.text.endswith("Approved by boss (console).") for p in bot.platform.in_thread("t1"))
            transcript = (await boss.get(f"/c/{cid}"))[1]
            assert "Exit code 0" in transcript
            assert "console:boss" in transcript


async def test_the_dispatcher_refuses_a_console_approval_by_someone_not_an_approver(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    """The session's rule holds for console authors too (the console asks first, the session again)."""
    from adapters import ThreadEvent
    from bot.webconsole.actions import operator

    model, server = crew
    coding_crew(model)
    async with console_bot(server, tmp_path, approvers=["console:boss"]) as bot:
        await bot.platform.mention("t1", "compute six times seven")
        await bot.platform.wait_for(has_buttons)
        thread = bot.platform.thread("t1")
        await bot.dispatcher.handle(ThreadEvent("button", thread, operator("mallory"), "k1", action_id="approve"))
        await bot.platform.wait_for(lambda posts: posts[-1].message.ephemeral_for == "console:mallory")
        assert [w.kind for w in await bot.db.stores.waits.open_waits()] == ["approval"]


async def test_an_agent_message_carrying_a_script_shows_as_text(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    model.say("planner", "<script>alert('pwned')</script><img src=x onerror=alert(1)>")
    async with console_bot(server, tmp_path) as bot:
        await until_waiting(bot)
        cid = (await bot.conversation("t1")).id
        async with signed_in(bot) as client:
            html = (await client.get(f"/c/{cid}"))[1]
            assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in html
            assert "<script>alert" not in html
            assert "<img src=x" not in html
            # The live stream escapes it the same way.
            async with client.http.get(f"{client.base}/c/{cid}/events?after=0") as response:
                assert response.headers["Content-Type"] == "text/event-stream"
                first = b""
                while b"event: panel" not in first:
                    first += await response.content.readany()
            assert b"&lt;script&gt;alert(" in first
            assert b"<script>" not in first


async def test_the_list_filters_by_status_and_the_transcript_shows_waits_usage_and_files(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with console_bot(server, tmp_path) as bot:
        await until_waiting(bot, "t1", "count the words")
        cid = (await bot.conversation("t1")).id
        other = await bot.db.stores.conversations.get_or_create("memory", "W1", "C1", "t9", team="crew")
        await bot.db.stores.conversations.set_status(other.id, "finished")
        html_file = base64.b64encode(b"<script>alert(1)</script>").decode()
        png = tiny_png()
        files = [
            {"name": "plot.png", "mime_type": "image/png", "size": len(png), "data": base64.b64encode(png).decode()},
            {"name": "page.html", "mime_type": "text/html", "size": 25, "data": html_file},
        ]
        stored = await bot.db.stores.messages.append(
            other.id,
            NewMessage(
                "user", "", name="runner", attachments={"files": files, "code": {"exit_code": 0, "output": "ok"}}
            ),
        )
        broken = await bot.db.stores.conversations.get_or_create("memory", "W1", "C1", "t8", team="crew")
        await bot.db.stores.conversations.save_state(
            broken.id, {"failed": "a step took too long"}, expected_version=broken.version, status="failed"
        )
        async with signed_in(bot) as client:
            assert "Stopped on an error: a step took too long" in (await client.get(f"/c/{broken.id}"))[1]
            assert f'href="/console/c/{broken.id}"' in (await client.get("/?status=failed"))[1]
            listing = (await client.get("/?status=waiting+for+people"))[1]
            assert f'href="/console/c/{cid}"' in listing
            assert f'href="/console/c/{other.id}"' not in listing
            listing = (await client.get("/?status=finished&platform=memory&team=crew"))[1]
            assert f'href="/console/c/{other.id}"' in listing
            assert f'href="/console/c/{cid}"' not in listing
            assert f'href="/console/c/{cid}"' not in (await client.get("/?team=nobody"))[1]

            transcript = (await client.get(f"/c/{cid}"))[1]
            assert "waiting for people" in transcript
            assert QUESTION in transcript
            assert "gpt-4o-mini" in transcript  # the usage table
            assert 'id="answer"' in transcript  # a question: the answer form

            async with client.http.get(f"{client.base}/files/{stored.id}/0") as response:
                assert response.status == 200
                assert response.headers["Content-Type"] == "image/png"
                assert response.headers["X-Content-Type-Options"] == "nosniff"
                assert response.headers["Content-Disposition"] == "inline; filename*=UTF-8''plot.png"
                assert await response.read() == png
            async with client.http.get(f"{client.base}/files/{stored.id}/1") as response:
                assert response.headers["Content-Type"] == "application/octet-stream"  # never rendered here
                assert response.headers["Content-Disposition"] == "attachment; filename*=UTF-8''page.html"
                assert await response.read() == b"<script>alert(1)</script>"
            assert (await client.get(f"/files/{stored.id}/2"))[0] == 404
            other_page = (await client.get(f"/c/{other.id}"))[1]
            assert f'<img src="/console/files/{stored.id}/0"' in other_page
            assert "Exit code 0" in other_page


async def test_an_operator_pauses_resumes_and_answers_and_the_thread_shows_it(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with waiting_run(server, tmp_path) as (bot, cid), signed_in(bot, "ops") as client:
        assert 'id="pause"' in (await client.get(f"/c/{cid}"))[1]
        assert (await client.act(cid, "pause"))[0] == 303
        await bot.platform.wait_for(lambda p: p[-1].text == "Paused by ops (console). Use resume to go on.")
        page = (await client.get(f"/c/{cid}"))[1]
        assert 'id="resume"' in page
        assert 'id="pause"' not in page
        assert (await client.act(cid, "resume"))[0] == 303
        await bot.platform.wait_for(lambda p: p[-1].text == "Resumed by ops (console).")

        assert (await client.act(cid, "say", text="   "))[0] == 400
        assert (await client.act(cid, "say", text="yes, ship it @channel"))[0] == 303
        await bot.platform.wait_for(lambda p: any("Looks complete" in x.text for x in p))
        said = next(p for p in bot.platform.in_thread("t1") if p.author == "console")
        assert said.message.persona.display_name == "ops (console)"
        assert "@channel" not in said.text  # an operator pings nobody either
        [question] = await bot.db.stores.waits.of_conversation(cid)
        assert (question.answer, question.answered_by) == ("yes, ship it @channel", "console:ops")
        assert (await client.act(cid, "dance"))[0] == 400
