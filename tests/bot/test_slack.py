"""The whole bot on Slack: signed requests into the real Bolt app, the real slack-sdk client
against the fake Slack Web API, the scripted crew model over the real openai client, SQLite."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sqlite3
import subprocess
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from adapters.slack import SlackPlatform, slack_installation_store, slack_oauth_state_store
from bot.app import Bot
from bot.dispatcher import Dispatcher
from bot.teams import TeamCatalog
from storage import Database
from tests.bot.crew import DONE, PLOT, Crew, settings_for, write_team
from tests.bot.test_runtime import assert_waits_match_states
from tests.fakes.openai_server import ScriptedOpenAI
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, FakeSlack, Posted
from tests.fakes.slack_requests import SlackSender, action_payload, command_fields, event_body

ROOT_TS = "1700000000.000100"  # the message that mentions the bot; its thread is the conversation


@dataclass
class SlackBot:
    slack: FakeSlack
    sender: SlackSender
    db: Database
    bot: Bot
    running: asyncio.Task[None]  # the bot's run()

    def thread(self) -> list[Posted]:
        return self.slack.in_thread("C1", ROOT_TS)

    def said(self) -> list[tuple[str | None, str]]:
        """(persona, text) of what the agents and threadcrew posted in the thread."""
        return [(p.username, p.blocks[0]["text"] if p.blocks else p.text) for p in self.thread() if not p.files]

    async def until(self, text: str, within: float = 30) -> Posted:
        """Wait until a post in the thread contains ``text``; returns it."""
        await self.slack.wait_for(
            lambda s: any(text in (p.blocks[0]["text"] if p.blocks else "") for p in self.thread()), within
        )
        return next(p for p in self.thread() if p.blocks and text in p.blocks[0]["text"])

    async def press(self, posted: Posted, action: str, user: str) -> None:
        element = next(
            e for b in posted.blocks if b["type"] == "actions" for e in b["elements"] if action in e["action_id"]
        )
        payload = action_payload(
            element["action_id"], element["value"], user=user, channel="C1", message_ts=posted.ts, thread_ts=ROOT_TS
        )
        assert (await self.sender.action(payload))[0] == 200

    async def reply(self, text: str, user: str, ts: str) -> None:
        event = {"type": "message", "user": user, "text": text, "ts": ts, "thread_ts": ROOT_TS}
        assert (await self.sender.event(event_body({**event, "channel": "C1", "channel_type": "channel"})))[0] == 200


@asynccontextmanager
async def slack_bot(
    slack: FakeSlack, server: ScriptedOpenAI, tmp_path: Path, settings_: dict[str, Any] | None = None, **team: Any
) -> AsyncIterator[SlackBot]:
    """The crew's bot on Slack's HTTP mode (``settings_``: more settings, by name)."""
    catalog = TeamCatalog()
    catalog.add_file(write_team(tmp_path / "crew.yaml", server.base_url, **team), default=True)
    config = slack.http_config()
    platform = SlackPlatform(config)
    settings = settings_for(tmp_path / "data", **(settings_ or {}))
    bot = Bot(settings, platform, catalog)
    task = asyncio.create_task(bot.run())
    await asyncio.wait_for(platform.ready.wait(), 10)
    assert bot.web is not None  # HTTP mode is served by the bot's web server
    sender = SlackSender(f"{bot.web.url}/slack/events")
    db = Database(settings.effective_database_url)
    try:
        yield SlackBot(slack, sender, db, bot, task)
    finally:
        await sender.close()
        await db.close()
        await platform.close()
        await task


async def mention(bot: SlackBot, text: str) -> None:
    event = {"type": "app_mention", "user": "UALICE", "text": f"<@UBOT> {text}", "ts": ROOT_TS, "channel": "C1"}
    body = event_body(event)
    assert (await bot.sender.event(body))[0] == 200
    # Slack retries when it thinks we were slow, and sends the message again as a `message` event.
    assert (await bot.sender.event(body, retry=1))[0] == 200
    copy = {**event, "type": "message", "channel_type": "channel"}
    assert (await bot.sender.event(event_body(copy)))[0] == 200


async def test_the_whole_story_in_a_slack_thread(crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path) -> None:
    model, server = crew
    model.say("selector", "planner", "user", "coder", "runner", "reviewer")
    model.say("planner", "Plan: the coder charts the squares. user, bars or a line?")
    model.say("coder", PLOT)
    model.say("reviewer", DONE)
    async with FakeSlack() as slack, slack_bot(slack, server, tmp_path, approvers=["UBOB"]) as bot:
        await mention(bot, "chart the first ten squares")
        question = await bot.until("The team is waiting for you")
        assert [b["type"] for b in question.blocks] == ["markdown", "actions"]

        await bot.reply("Bars, please.", "UALICE", "1700000050.000100")
        approval = await bot.until("runner wants to run the code above (python, 6 lines).")
        await bot.press(approval, "approve", "UCAROL")  # not an approver
        await slack.wait_for(lambda s: any(p.ephemeral_for == "UCAROL" for p in s.posted))
        await bot.press(approval, "approve", "UBOB")
        await bot.until(DONE, within=60)

    said = bot.said()
    personas = [who for who, _ in said]
    assert personas == ["Plan Bot", "threadcrew", "coder", "threadcrew", "runner", "reviewer"]
    assert said[0][1] == "Plan: the coder charts the squares. user, bars or a line?"
    assert said[1][1].endswith("answered by alice.")  # the question, updated once answered
    assert said[3][1].endswith("Approved by bob.")  # the approval, updated with who decided
    assert said[4][1].startswith("Ran the code: 0 (execution succeeded)")
    assert "saved squares.png" in said[4][1]
    [refused] = [p for p in slack.posted if p.ephemeral_for == "UCAROL"]
    assert refused.text.endswith("You are not allowed to approve or reject this.")
    [plot] = [p for p in bot.thread() if p.files]
    assert [f["filename"] for f in plot.files] == ["squares.png"]
    assert plot.files[0]["data"].startswith(b"\x89PNG\r\n\x1a\n")
    # Each agent posted under its persona; the people's reply went to the model as the people's.
    assert [p.icon_emoji for p in bot.thread() if p.username == "Plan Bot"] == [":memo:"]
    assert any({"role": "user", "name": "user", "content": "Bars, please."} in m for m in model.requests_of("coder"))
    assert model.seen("planner") == 1  # three deliveries of the mention, one run
    reactions = [(c.method, c.params["name"]) for c in slack.calls if c.method.startswith("reactions.")]
    assert reactions[0] == ("reactions.add", "hourglass_flowing_sand")
    assert reactions[-1] == ("reactions.remove", "hourglass_flowing_sand")


async def reply_during_the_coders_step(bot: SlackBot, model: Crew) -> None:
    """Alice mentions the bot; once the coder's step waits on the model, Bob replies (accepted during
    the step, queued behind it)."""
    await mention(bot, "chart the squares")
    await model.arrived("coder")
    await bot.reply("use blue bars", "UBOB", "1700000060.000100")


async def test_a_restart_in_the_middle_of_a_run_loses_nothing_and_repeats_nothing(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    async with FakeSlack() as slack:
        gate = model.hold("coder")
        async with slack_bot(slack, server, tmp_path) as bot:
            await reply_during_the_coders_step(bot, model)
            closing = asyncio.create_task(bot.bot.close())  # a deploy: SIGTERM mid-step
            gate.set()
            await closing
        async with slack_bot(slack, server, tmp_path) as bot:
            await bot.until("The team is waiting for you")
            assert bot.bot.dispatcher is not None
            await bot.bot.dispatcher.wait_idle()  # the prompt is posted; now its posted mark is stored too
            stored = await bot.db.stores.messages.list_since(1)
            await assert_waits_match_states(bot.db)
    said = bot.said()
    texts = [text for _, text in said]
    assert len(texts) == len(set(texts)), "a message was posted twice"
    assert texts[:2] == ["planner on 'chart the squares'", "coder on 'chart the squares'"]
    assert [m.content for m in stored if m.author_kind == "human"] == ["chart the squares", "use blue bars"]
    assert all(m.posted_at is not None for m in stored)
    assert model.seen("coder") >= 1
    assert "use blue bars" in texts[2]  # the planner heard bob after the restart


async def test_the_slash_command_lists_and_stops_the_runs_of_a_channel(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with FakeSlack() as slack, slack_bot(slack, server, tmp_path) as bot:
        await mention(bot, "chart the squares")
        await bot.until("The team is waiting for you")
        status, _ = await bot.sender.command(command_fields("status", user="UCAROL", channel="C1"))
        assert status == 200
        await slack.wait_for(lambda s: any(p.ephemeral_for == "UCAROL" for p in s.posted))
        await bot.sender.command(command_fields("stop", user="UCAROL", channel="C1"))
        await bot.until("Stopped by carol.")
        await bot.sender.command(command_fields("teams", user="UCAROL", channel="C1"))
        await slack.wait_for(lambda s: sum(p.ephemeral_for == "UCAROL" for p in s.posted) == 3)
        record = await bot.db.stores.conversations.find("slack", "T1", "C1", ROOT_TS)
    answers = [p.blocks[0]["text"] for p in slack.posted if p.ephemeral_for == "UCAROL"]
    assert answers[0].startswith("Conversations in this channel, latest first:\n• thread `1700000000.000100`: waiting")
    assert answers[1] == "Stopping 1 run in this channel."
    assert answers[2] == "• *crew*"
    assert record is not None
    assert record.status == "finished"


async def test_a_workspace_installs_the_app_through_oauth_and_its_threads_use_its_token(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with FakeSlack() as slack:
        slack.install("code-1", "T2", "xoxb-t2-not-real")
        catalog = TeamCatalog()
        catalog.add_file(write_team(tmp_path / "crew.yaml", server.base_url), default=True)
        settings = settings_for(tmp_path / "data")
        config = slack.http_config(bot_token=None, client_id="111.222", client_secret="not-a-real-secret")

        def platform_on(db: Database) -> SlackPlatform:  # the installations live in the bot's own database
            return SlackPlatform(
                config,
                installation_store=slack_installation_store(db.engine, "111.222"),
                state_store=slack_oauth_state_store(db.engine),
            )

        bot = Bot(settings, platform_on, catalog)
        task = asyncio.create_task(bot.run())
        await asyncio.wait_for(bot.started.wait(), 10)
        platform = bot.platforms["slack"]
        assert isinstance(platform, SlackPlatform)
        await asyncio.wait_for(platform.ready.wait(), 10)
        assert bot.web is not None
        base = bot.web.url
        try:
            async with aiohttp.ClientSession() as browser:
                async with browser.get(f"{base}/slack/install") as page:
                    assert page.status == 200
                    state = re.search(r"state=([^&\"]+)", await page.text())
                    cookie = page.headers["Set-Cookie"].split(";")[0]  # Secure: a real browser uses https
                assert state is not None
                callback = f"{base}/slack/oauth_redirect?code=code-1&state={state.group(1)}"
                async with browser.get(callback, headers={"Cookie": cookie}) as done:
                    assert done.status == 200, await done.text()
            sender = SlackSender(f"{base}/slack/events")
            event = {"type": "app_mention", "user": "UALICE", "text": "<@UBOT2> hello", "ts": ROOT_TS, "channel": "C9"}
            assert (await sender.event(event_body(event, team_id="T2")))[0] == 200
            await sender.close()
            await slack.wait_for(lambda s: len(s.in_thread("C9", ROOT_TS)) >= 4)
        finally:
            await bot.close()
            await task
    posts = slack.calls_of("chat.postMessage")
    assert posts
    assert {c.token for c in posts} == {"xoxb-t2-not-real"}  # the installation's own token
    assert [c.params["text"].split(":")[0] for c in posts][:3] == ["Plan Bot", "coder", "reviewer"]


async def test_bad_slack_settings_stop_the_bot_with_the_setting_to_fix(tmp_path: Path) -> None:
    from tests.fakes.terminal import THREADCREW, clean_env

    def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*THREADCREW, "run", "--platform", "slack"],
            capture_output=True,
            text=True,
            timeout=60,
            env=clean_env({"THREADCREW_DATA_DIR": str(tmp_path), **env}),
            check=False,
        )

    no_app_token = await asyncio.to_thread(run, {"THREADCREW_SLACK_BOT_TOKEN": "xoxb-1"})
    assert no_app_token.returncode == 1
    assert "Slack Socket Mode needs THREADCREW_SLACK_APP_TOKEN" in no_app_token.stderr
    user_token = await asyncio.to_thread(
        run, {"THREADCREW_SLACK_BOT_TOKEN": "xoxp-1", "THREADCREW_SLACK_APP_TOKEN": "xapp-1"}
    )
    assert "THREADCREW_SLACK_BOT_TOKEN must be the app's bot token, which starts with xoxb-" in user_token.stderr
    http = await asyncio.to_thread(run, {"THREADCREW_SLACK_MODE": "http", "THREADCREW_SLACK_BOT_TOKEN": "xoxb-1"})
    assert "Slack HTTP mode needs THREADCREW_SLACK_SIGNING_SECRET" in http.stderr
    for done in (no_app_token, user_token, http):
        assert "Traceback" not in done.stderr
        assert "xoxb-1" not in done.stderr + done.stdout  # a token is never echoed


async def test_a_streaming_model_streams_each_reply_into_the_thread_for_the_person_who_asked(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    streaming = {"model": "gpt-4o-mini", "base_url": server.base_url, "api_key": "sk-test", "stream": True}
    async with FakeSlack() as slack, slack_bot(slack, server, tmp_path, models={"default": streaming}) as bot:
        await mention(bot, "chart the squares")
        await bot.until("The team is waiting for you")
    started = slack.calls_of("chat.startStream")
    assert [c.params["username"] for c in started] == ["Plan Bot", "coder", "reviewer"]
    assert {(c.params["recipient_user_id"], c.params["recipient_team_id"]) for c in started} == {("UALICE", "T1")}
    assert len(slack.calls_of("chat.stopStream")) == 3
    # The streamed messages became the replies: keyed, shown once each, none posted again.
    assert [p.username for p in bot.thread()] == [
        "Plan Bot",
        "coder",
        "reviewer",
        "threadcrew",
    ]
    assert [c.params.get("username") for c in slack.calls_of("chat.postMessage")] == ["threadcrew"]
    planner = bot.thread()[0]
    assert planner.blocks[0]["text"] == "planner on 'chart the squares'"
    assert planner.metadata is not None
    assert planner.metadata["event_payload"]["key"].startswith("tc-")
    assert not planner.streaming


def socket_mode_env(slack: FakeSlack, server: ScriptedOpenAI, tmp_path: Path) -> dict[str, str]:
    """The environment of a `threadcrew` process on Slack's Socket Mode against ``slack``."""
    from tests.fakes.terminal import clean_env

    return clean_env(
        {
            "THREADCREW_DATA_DIR": str(tmp_path / "data"),
            "THREADCREW_TEAM": str(write_team(tmp_path / "crew.yaml", server.base_url)),
            "THREADCREW_SLACK_BOT_TOKEN": BOT_TOKEN,
            "THREADCREW_SLACK_APP_TOKEN": APP_TOKEN,
            "THREADCREW_SLACK_API_URL": slack.api_url,
        }
    )


async def test_threadcrew_run_on_slack_in_socket_mode_as_a_user_runs_it(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    from tests.fakes.terminal import THREADCREW

    _, server = crew
    async with FakeSlack() as slack:
        env = socket_mode_env(slack, server, tmp_path)
        process = await asyncio.create_subprocess_exec(
            *THREADCREW, "run", "--platform", "slack", env=env, stdout=PIPE, stderr=PIPE
        )
        try:
            await slack.wait_for_socket(within=60)
            event = {
                "type": "app_mention",
                "user": "UALICE",
                "text": "<@UBOT> chart it",
                "ts": ROOT_TS,
                "channel": "C1",
            }
            envelope = {"envelope_id": "e1", "type": "events_api", "payload": event_body(event)}
            await slack.socket_send({**envelope, "accepts_response_payload": False})
            await slack.wait_for(lambda s: any("waiting for you" in p.text for p in s.in_thread("C1", ROOT_TS)))
        finally:
            process.send_signal(signal.SIGTERM)  # what a deploy does
            stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    assert "threadcrew is listening to Slack (Socket Mode)" in stdout.decode()
    assert [p.username for p in slack.in_thread("C1", ROOT_TS)] == ["Plan Bot", "coder", "reviewer", "threadcrew"]
    assert BOT_TOKEN not in stdout.decode() + stderr.decode()


@asynccontextmanager
async def refused_once(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, *, retry_base: float
) -> AsyncIterator[tuple[FakeSlack, SlackBot, Dispatcher]]:
    """The crew on Slack (its reviewer ends the run), the first chat.postMessage refused with a 500-like
    error, failed threads tried again after ``retry_base`` seconds."""
    model, server = crew
    model.say("reviewer", DONE)
    async with FakeSlack() as slack, slack_bot(slack, server, tmp_path) as bot:
        assert bot.bot.dispatcher is not None
        bot.bot.dispatcher.retry_base = retry_base
        slack.fail("chat.postMessage", "internal_error")
        yield slack, bot, bot.bot.dispatcher


async def test_posts_that_slack_refuses_are_tried_again_until_the_run_finishes_on_its_own(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    async with refused_once(crew, tmp_path, retry_base=0.01) as (slack, bot, _):  # backing off quickly
        slack.rate_limit("chat.postMessage", times=7)  # ...and more 429s than slack-sdk retries
        await mention(bot, "chart the squares")
        await bot.until(DONE)
        await bot.bot.dispatcher.wait_idle()  # the last post is out; now its save is stored too
        record = await bot.db.stores.conversations.find("slack", "T1", "C1", ROOT_TS)
        assert record is not None
        assert record.status == "finished"
        assert await bot.db.stores.messages.outbox() == []
    texts = [text for _, text in bot.said()]
    assert texts == ["planner on 'chart the squares'", "coder on 'chart the squares'", DONE]


async def test_a_thread_whose_post_slack_refuses_says_it_is_retrying_and_the_sweep_finishes_it(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    # The backoff timer stays out of this test: the sweep picks the thread up.
    async with refused_once(crew, tmp_path, retry_base=600.0) as (slack, bot, dispatcher):
        await mention(bot, "chart the squares")
        await slack.wait_for(lambda s: bool(s.calls_of("chat.postMessage")))
        await dispatcher.wait_idle()  # the thread's worker gave up on the refused post
        waiting = await bot.db.stores.conversations.find("slack", "T1", "C1", ROOT_TS)
        unposted = await bot.db.stores.messages.outbox()
        said_before = bot.said()
        assert await dispatcher.sweep() == 1
        await bot.until(DONE)
        await dispatcher.wait_idle()
        done = await bot.db.stores.conversations.find("slack", "T1", "C1", ROOT_TS)
    assert waiting is not None
    assert waiting.status == "retrying"  # the thread says why it is not moving
    assert [m.content for m in unposted] == ["planner on 'chart the squares'"]  # kept, to be posted
    assert said_before == []
    assert done is not None
    assert done.status == "finished"
    assert [text for _, text in bot.said()] == ["planner on 'chart the squares'", "coder on 'chart the squares'", DONE]


async def test_threadcrew_start_runs_a_team_in_a_new_thread_and_waits_list_shows_its_question(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    from tests.fakes.terminal import THREADCREW

    _, server = crew
    async with FakeSlack() as slack:
        env = socket_mode_env(slack, server, tmp_path)
        start = [*THREADCREW, "start", "--platform", "slack", "--channel", "C5", "chart the squares"]
        started = await asyncio.create_subprocess_exec(*start, env=env, stdout=PIPE, stderr=PIPE)
        out, err = await asyncio.wait_for(started.communicate(), 60)
        assert started.returncode == 0, err.decode()
        listing = await asyncio.create_subprocess_exec(*THREADCREW, "waits", "list", env=env, stdout=PIPE, stderr=PIPE)
        waits, _ = await asyncio.wait_for(listing.communicate(), 60)
    [opening] = [p for p in slack.posted if p.channel == "C5" and p.thread_ts is None]
    assert opening.blocks[0]["text"] == "chart the squares"
    assert out.decode().startswith(f"started in slack:T1:C5:{opening.ts}")
    assert [p.username for p in slack.in_thread("C5", opening.ts)] == ["Plan Bot", "coder", "reviewer", "threadcrew"]
    assert not slack.calls_of("apps.connections.open")  # it took no events: it only started the run
    [line] = waits.decode().splitlines()
    assert f"question slack:T1:C5:{opening.ts}  for user; answered by anyone in the thread" in line


async def test_shutdown_waits_for_the_worker_that_takes_over_from_a_failed_one(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    # A post fails while the bot drains; the worker's queued reply goes to a successor worker,
    # which must finish before the database closes (else the reply stays in the inbox, unheard).
    model, server = crew
    async with FakeSlack() as slack:
        gate = model.hold("coder")
        async with slack_bot(slack, server, tmp_path) as bot:
            await reply_during_the_coders_step(bot, model)
            slack.fail("chat.postMessage", "fatal_error")  # the coder's post fails, once
            await bot.bot.close()  # a deploy: the bot drains
            gate.set()
            await bot.running  # the bot has shut down (its platform closed last)
    with contextlib.closing(sqlite3.connect(tmp_path / "data" / "threadcrew.db")) as db:
        inbox = db.execute("SELECT count(*) FROM inbox").fetchone()[0]
        people = [row[0] for row in db.execute("SELECT content FROM messages WHERE author_kind = 'human' ORDER BY seq")]
    assert inbox == 0  # the successor heard bob (into the run's state) before the bot closed its database
    assert people == ["chart the squares"]  # bob's words are stored with the next step, at the next start
    # The coder's message went out once, posted by the successor:
    assert [p.username for p in slack.in_thread("C1", ROOT_TS)] == ["Plan Bot", "coder"]
