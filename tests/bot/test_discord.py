"""The whole bot on Discord: the real discord.py client against the fake Discord (REST, webhooks,
gateway, interactions), the scripted crew model over the real openai client, SQLite."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import sqlite3
import subprocess
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app import Bot
from bot.discord import discord_platform
from bot.teams import TeamCatalog
from storage import Database
from tests.bot.crew import DONE, PLOT, Crew, settings_for, write_team
from tests.bot.test_runtime import assert_waits_match_states
from tests.fakes.discord_api import APPROVER_ROLE, BOT, CHANNEL, PEOPLE, TOKEN, FakeDiscord, Interaction, Message
from tests.fakes.openai_server import ScriptedOpenAI


@dataclass
class DiscordBot:
    fake: FakeDiscord
    db: Database
    bot: Bot
    thread_id: str = ""

    def thread(self) -> list[Message]:
        return self.fake.in_channel(self.thread_id)

    def said(self) -> list[tuple[str, str]]:
        """(who, text) of what the agents and threadcrew posted in the thread."""
        return [(m.username, m.text) for m in self.thread() if m.author_id != PEOPLE.get(m.username)]

    async def until(self, text: str, within: float = 30) -> Message:
        """Wait until a post in the thread contains ``text``; returns it."""
        await self.fake.wait_for(lambda f: any(text in m.text for m in self.thread()), within)
        return next(m for m in self.thread() if text in m.text)

    async def mention(self, task: str) -> Message:
        said = await self.fake.say(CHANNEL, "alice", f"<@{BOT}> {task}")
        self.thread_id = said.id  # the thread opened on the message has its id
        return said


@asynccontextmanager
async def discord_bot(
    fake: FakeDiscord, server: ScriptedOpenAI, tmp_path: Path, **team: Any
) -> AsyncIterator[DiscordBot]:
    catalog = TeamCatalog()
    catalog.add_file(write_team(tmp_path / "crew.yaml", server.base_url, **team), default=True)
    settings = settings_for(tmp_path / "data").model_copy(
        update={"discord_token": SecretStr(TOKEN), "discord_api_url": fake.api_url}
    )
    bot = Bot(settings, functools.partial(discord_platform, settings), catalog)
    task = asyncio.create_task(bot.run())
    await fake.wait_connected()
    await asyncio.wait_for(bot.started.wait(), 10)
    db = Database(settings.effective_database_url)
    try:
        yield DiscordBot(fake, db, bot)
    finally:
        await db.close()
        await bot.close()
        await task


async def test_the_whole_story_in_a_discord_thread(crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path) -> None:
    model, server = crew
    model.say("selector", "planner", "user", "coder", "runner", "reviewer")
    model.say("planner", "Plan: the coder charts the squares. user, bars or a line?")
    model.say("coder", PLOT)
    model.say("reviewer", DONE)
    async with FakeDiscord() as fake, discord_bot(fake, server, tmp_path, approvers=[APPROVER_ROLE]) as bot:
        kept_before: dict[str, bool] = {}
        fake.before_answer = functools.partial(kept_when_answered, tmp_path / "data" / "threadcrew.db", kept_before)
        await bot.mention("chart the first ten squares")
        question = await bot.until("The team is waiting for you")
        assert question.custom_ids()  # people can answer with a button too

        await fake.say(bot.thread_id, "alice", "Bars, please.")  # no mention needed in the thread
        approval = await bot.until("runner wants to run the code above (python, 6 lines).")
        refused = await fake.click(approval, "approve", "carol")  # not an approver
        await fake.wait_for(lambda f: bool(f.private_to(PEOPLE["carol"])))
        allowed = await fake.click(approval, "approve", "bob")  # an approver by his role
        await bot.until(DONE, within=60)
        assert bot.bot.dispatcher is not None
        await bot.bot.dispatcher.wait_idle()  # the run's end is stored
        record = await bot.db.stores.conversations.find("discord", "100", CHANNEL, bot.thread_id)

    assert fake.threads[bot.thread_id]["name"] == "chart the first ten squares"
    said = bot.said()
    assert [who for who, _ in said] == ["Plan Bot", "threadcrew", "coder", "threadcrew", "runner", "reviewer"]
    assert said[0][1] == "Plan: the coder charts the squares. user, bars or a line?"
    assert said[1][1].endswith("answered by alice.")  # the question, edited once answered
    assert said[3][1].endswith("Approved by bob.")  # the approval, edited with who decided
    assert said[4][1].startswith("Ran the code: 0 (execution succeeded)")
    assert "saved squares.png" in said[4][1]
    # Every post went through the channel's one webhook, pinging no one.
    posts = [m for m in bot.thread() if m.author_id != PEOPLE.get(m.username)]
    assert {m.webhook_id for m in posts} == set(fake.webhooks)
    assert all(m.allowed_mentions == {"parse": []} for m in posts)
    [plot] = [m for m in posts if m.files]
    assert [f["filename"] for f in plot.files] == ["squares.png"]
    assert plot.files[0]["data"].startswith(b"\x89PNG\r\n\x1a\n")
    # The refusal was private to carol; each press was deferred once it was kept in the inbox.
    [private] = fake.private_to(PEOPLE["carol"])
    assert private.text == "You are not allowed to approve or reject this."
    assert refused.responses[0] == {"type": 6, "flags": 0}
    assert allowed.responses == [{"type": 6, "flags": 0}]
    assert kept_before == {refused.id: True, allowed.id: True}
    assert all(not m.components for m in posts)  # decided: no buttons left
    assert any({"role": "user", "name": "user", "content": "Bars, please."} in m for m in model.requests_of("coder"))
    assert model.seen("planner") == 1
    assert set(fake.typing) == {bot.thread_id}  # the typing indicator, in the thread only
    assert record is not None
    assert record.status == "finished"


def kept_when_answered(database: Path, kept: dict[str, bool], interaction: Interaction) -> None:
    """Whether the bot had kept ``interaction`` (claimed it, with its inbox entry) when Discord got its answer."""
    query = "SELECT count(*) FROM processed_events WHERE event_key = ?"
    with contextlib.closing(sqlite3.connect(database)) as db:
        kept[interaction.id] = db.execute(query, (f"event:interaction:{interaction.id}",)).fetchone()[0] == 1


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    from tests.fakes.terminal import THREADCREW, clean_env

    return subprocess.run(
        [*THREADCREW, *args], capture_output=True, text=True, timeout=60, env=clean_env(env), check=False
    )


async def test_the_discord_commands_print_the_invite_link_and_register_the_slash_command(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        env = {"THREADCREW_DATA_DIR": str(tmp_path), "THREADCREW_DISCORD_API_URL": fake.api_url}
        by_id = await asyncio.to_thread(_cli, "discord", "invite-url", "--client-id", "123456789012345678", env=env)
        by_token = await asyncio.to_thread(
            _cli, "discord", "invite-url", env={**env, "THREADCREW_DISCORD_TOKEN": TOKEN}
        )
        synced = await asyncio.to_thread(
            _cli, "discord", "sync-commands", "--guild", "100", env={**env, "THREADCREW_DISCORD_TOKEN": TOKEN}
        )
    assert by_id.returncode == 0, by_id.stderr
    assert by_id.stdout.startswith("https://discord.com/oauth2/authorize?client_id=123456789012345678")
    assert "permissions=309774616576" in by_id.stdout
    assert f"client_id={BOT}" in by_token.stdout
    assert synced.returncode == 0, synced.stderr
    assert f"registered /threadcrew for application {BOT} in guild 100" in synced.stdout
    [command] = fake.commands["100"]
    assert command["name"] == "threadcrew"
    assert [o["name"] for o in command["options"]] == ["status", "stop", "teams", "schedules", "schedule"]
    assert [a["name"] for a in command["options"][-1]["options"]] == ["add", "list", "pause", "resume", "delete"]
    assert None not in fake.commands  # nothing registered globally
    assert TOKEN not in synced.stdout + synced.stderr


async def test_bad_discord_settings_and_a_refused_intent_stop_the_bot_with_what_to_fix(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    base = {"THREADCREW_DATA_DIR": str(tmp_path / "data")}
    no_token = await asyncio.to_thread(_cli, "run", "--platform", "discord", env=base)
    slack_token = await asyncio.to_thread(
        _cli, "run", "--platform", "discord", env={**base, "THREADCREW_DISCORD_TOKEN": "xoxb-1"}
    )
    shards = await asyncio.to_thread(
        _cli,
        "run",
        "--platform",
        "discord",
        env={**base, "THREADCREW_DISCORD_TOKEN": TOKEN, "THREADCREW_DISCORD_SHARD_IDS": "0,1"},
    )
    async with FakeDiscord() as fake:
        fake.refuse_intents = True
        env = {
            **base,
            "THREADCREW_DISCORD_TOKEN": TOKEN,
            "THREADCREW_DISCORD_API_URL": fake.api_url,
            "THREADCREW_TEAM": str(write_team(tmp_path / "crew.yaml", server.base_url)),
        }
        refused = await asyncio.to_thread(_cli, "run", "--platform", "discord", env=env)
    assert "Discord needs THREADCREW_DISCORD_TOKEN" in no_token.stderr
    assert "THREADCREW_DISCORD_TOKEN is not a Discord bot token" in slack_token.stderr
    assert "THREADCREW_DISCORD_SHARD_IDS needs THREADCREW_DISCORD_SHARD_COUNT" in shards.stderr
    assert refused.returncode == 1
    assert "Privileged Gateway Intents > Message Content Intent" in refused.stderr
    for done in (no_token, slack_token, shards, refused):
        assert done.returncode != 0
        assert "Traceback" not in done.stderr
        assert TOKEN not in done.stdout + done.stderr  # a token is never echoed


async def test_threadcrew_run_on_discord_as_a_user_runs_it(crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path) -> None:
    from tests.fakes.terminal import THREADCREW, clean_env

    _, server = crew
    async with FakeDiscord() as fake:
        env = clean_env(
            {
                "THREADCREW_DATA_DIR": str(tmp_path / "data"),
                "THREADCREW_TEAM": str(write_team(tmp_path / "crew.yaml", server.base_url)),
                "THREADCREW_DISCORD_TOKEN": TOKEN,
                "THREADCREW_DISCORD_API_URL": fake.api_url,
            }
        )
        process = await asyncio.create_subprocess_exec(
            *THREADCREW, "run", "--platform", "discord", env=env, stdout=PIPE, stderr=PIPE
        )
        try:
            await fake.wait_connected(within=60)
            said = await fake.say(CHANNEL, "alice", f"<@{BOT}> chart it")
            await fake.wait_for(lambda f: any("waiting for you" in m.text for m in f.in_channel(said.id)), 60)
        finally:
            process.send_signal(signal.SIGTERM)  # what a deploy does
            stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    assert "threadcrew is listening to Discord" in stdout.decode()
    assert [m.username for m in fake.in_channel(said.id)] == ["Plan Bot", "coder", "reviewer", "threadcrew"]
    assert TOKEN not in stdout.decode() + stderr.decode()


async def test_a_sigkill_mid_run_loses_nothing_repeats_nothing_and_old_buttons_still_work(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    from tests.fakes.terminal import THREADCREW, clean_env

    model, server = crew
    model.say("selector", "planner", "coder", "coder", "runner", "reviewer")
    model.say("coder", PLOT, PLOT)  # the first is lost with the process that asked for it
    model.say("reviewer", DONE)
    gate = model.hold("coder")
    async with FakeDiscord() as fake:
        env = clean_env(
            {
                "THREADCREW_DATA_DIR": str(tmp_path / "data"),
                "THREADCREW_TEAM": str(write_team(tmp_path / "crew.yaml", server.base_url, approvers=["302"])),
                "THREADCREW_DISCORD_TOKEN": TOKEN,
                "THREADCREW_DISCORD_API_URL": fake.api_url,
            }
        )

        async def start(times: int) -> asyncio.subprocess.Process:
            process = await asyncio.create_subprocess_exec(*THREADCREW, "run", "--platform", "discord", env=env)
            await fake.wait_connected(within=60, times=times)
            return process

        async def kill(process: asyncio.subprocess.Process) -> None:
            process.kill()  # SIGKILL: no shutdown, no drain
            await process.wait()

        first = await start(1)
        said = await fake.say(CHANNEL, "alice", f"<@{BOT}> chart the squares")
        await model.arrived("coder")  # the step is under way
        await kill(first)
        gate.set()

        second = await start(2)  # goes on with the run it finds running
        await fake.wait_for(lambda f: any("wants to run the code" in m.text for m in f.in_channel(said.id)), 60)
        approval = next(m for m in fake.in_channel(said.id) if "wants to run the code" in m.text)
        await kill(second)

        third = await start(3)
        pressed = await fake.click(approval, "approve", "bob")  # a button from two processes ago
        await fake.wait_for(lambda f: any(DONE in m.text for m in f.in_channel(said.id)), 60)
        third.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(third.wait(), 60) == 0

    texts = [m.text for m in fake.in_channel(said.id)]
    assert len(texts) == len(set(texts)), f"a message was posted twice: {texts}"
    assert texts[0] == "planner on 'chart the squares'"
    assert any(t.endswith("Approved by bob.") for t in texts)
    assert any(t.startswith("Ran the code: 0 (execution succeeded)") for t in texts)
    assert pressed.responses[0] == {"type": 6, "flags": 0}
    assert model.seen("planner") == 1
    async with Database(f"sqlite:///{tmp_path / 'data' / 'threadcrew.db'}") as db:
        record = await db.stores.conversations.find("discord", "100", CHANNEL, said.id)
        assert record is not None
        stored = await db.stores.messages.list_since(record.id)
        await assert_waits_match_states(db)
    assert all(m.posted_at is not None for m in stored)
    assert [m.content for m in stored if m.author_kind == "human"] == ["chart the squares"]


async def test_one_process_serves_the_same_team_on_slack_and_discord(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    from adapters.slack import SlackPlatform
    from tests.fakes.slack_api import FakeSlack
    from tests.fakes.slack_requests import SlackSender, event_body

    _, server = crew
    catalog = TeamCatalog()
    catalog.add_file(write_team(tmp_path / "crew.yaml", server.base_url), default=True)
    async with FakeDiscord() as fake, FakeSlack() as slack:
        settings = settings_for(tmp_path / "data").model_copy(
            update={"discord_token": SecretStr(TOKEN), "discord_api_url": fake.api_url}
        )
        slack_platform = SlackPlatform(slack.http_config())
        bot = Bot(settings, [slack_platform, functools.partial(discord_platform, settings)], catalog)
        task = asyncio.create_task(bot.run())
        try:
            await fake.wait_connected()
            await asyncio.wait_for(slack_platform.ready.wait(), 10)
            assert bot.web is not None
            sender = SlackSender(f"{bot.web.url}/slack/events")
            mention = {"type": "app_mention", "user": "UALICE", "text": "<@UBOT> squares on Slack", "channel": "C1"}
            assert (await sender.event(event_body({**mention, "ts": "1700000000.000100"})))[0] == 200
            await sender.close()
            said = await fake.say(CHANNEL, "alice", f"<@{BOT}> squares on Discord")
            await fake.wait_for(lambda f: any("waiting for you" in m.text for m in f.in_channel(said.id)), 30)
            await slack.wait_for(
                lambda s: any("waiting for you" in p.text for p in s.in_thread("C1", "1700000000.000100"))
            )
        finally:
            await bot.close()
            await task
    on_discord = [m.text for m in fake.in_channel(said.id)]
    on_slack = [p.blocks[0]["text"] for p in slack.in_thread("C1", "1700000000.000100") if p.blocks]
    assert on_discord[:3] == [
        "planner on 'squares on Discord'",
        "coder on 'squares on Discord'",
        "Reviewed 'squares on Discord'. user, does this look right?",
    ]
    assert on_slack[:3] == [
        "planner on 'squares on Slack'",
        "coder on 'squares on Slack'",
        "Reviewed 'squares on Slack'. user, does this look right?",
    ]


async def test_posts_that_discord_refuses_are_tried_again_until_the_run_finishes_on_its_own(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    model.say("reviewer", DONE)
    async with FakeDiscord() as fake, discord_bot(fake, server, tmp_path) as bot:
        dispatcher = bot.bot.dispatcher
        assert dispatcher is not None
        dispatcher.retry_base = 0.01  # backing off quickly
        fake.rate_limit("POST", "/webhooks/", times=7)  # more 429s than discord.py retries
        await bot.mention("chart the squares")
        await bot.until(DONE)
        await dispatcher.wait_idle()  # the last post is out; now its save is stored too
        record = await bot.db.stores.conversations.find("discord", "100", CHANNEL, bot.thread_id)
        unposted = await bot.db.stores.messages.outbox()
    assert record is not None
    assert record.status == "finished"
    assert unposted == []
    assert [text for _, text in bot.said()] == ["planner on 'chart the squares'", "coder on 'chart the squares'", DONE]
    assert len(fake.calls("POST", "/webhooks/")) == 7 + 3  # each refused post was sent again, each once


async def test_threadcrew_start_opens_a_discord_thread_without_taking_events(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with FakeDiscord() as fake:
        env = {
            "THREADCREW_DATA_DIR": str(tmp_path / "data"),
            "THREADCREW_TEAM": str(write_team(tmp_path / "crew.yaml", server.base_url)),
            "THREADCREW_DISCORD_TOKEN": TOKEN,
            "THREADCREW_DISCORD_API_URL": fake.api_url,
        }
        done = await asyncio.to_thread(
            _cli, "start", "--platform", "discord", "--channel", CHANNEL, "chart the squares", env=env
        )
    assert done.returncode == 0, done.stderr
    [starter] = fake.in_channel(CHANNEL)
    assert f"started in discord:100:{CHANNEL}:{starter.id}" in done.stdout
    assert fake.threads[starter.id]["name"] == "chart the squares"
    assert [m.username for m in fake.in_channel(starter.id)] == ["Plan Bot", "coder", "reviewer", "threadcrew"]
    assert not fake.identified  # posting needs no gateway


def test_the_discord_settings_become_the_adapters_config_or_say_what_to_fix(tmp_path: Path) -> None:
    from bot.discord import discord_config
    from bot.errors import StartupError

    settings = settings_for(tmp_path).model_copy(
        update={
            "discord_token": SecretStr(TOKEN),
            "discord_allowed_guilds": "100, 101",
            "discord_allowed_channels": "200",
            "discord_shard_ids": "1,0",
            "discord_shard_count": 4,
        }
    )
    config = discord_config(settings)
    assert config.allowed_guilds == frozenset({"100", "101"})
    assert (config.shard_ids, config.shard_count) == ((0, 1), 4)
    assert config.allows("100", "200")
    assert not config.allows("100", "201")
    assert not config.allows("102", "200")
    with pytest.raises(StartupError, match=r"THREADCREW_DISCORD_ALLOWED_CHANNELS takes Discord ids .* not general"):
        discord_config(settings.model_copy(update={"discord_allowed_channels": "general"}))
    with pytest.raises(StartupError, match=r"must be below THREADCREW_DISCORD_SHARD_COUNT \(2\)"):
        discord_config(settings.model_copy(update={"discord_shard_count": 2, "discord_shard_ids": "2"}))
