"""Slack's HTTP mode under a burst, then SIGKILL: every mention Slack was answered 200 for is
handled after the restart, and none twice.

The bot runs as a process (``threadcrew run --platform slack``) against the fake Slack Web API;
Slack's side is 200 signed ``app_mention`` requests sent at once. The process is killed the
moment the last of them is acknowledged, while most are still in the inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sqlite3
from asyncio.subprocess import PIPE
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.bot.crew import Crew, write_team
from tests.fakes.openai_server import ScriptedOpenAI
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackSender, event_body
from tests.fakes.terminal import THREADCREW, clean_env

MENTIONS = 200
AGENT = "planner"  # the one agent, posting under its own name


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def slack_bot_env(data: Path, team: Path, slack: FakeSlack, port: int) -> dict[str, str]:
    """The environment of a bot process serving Slack's HTTP mode on ``port``, saying when it is ready."""
    return clean_env({**slack.http_env(data, team, port), "THREADCREW_SCHEDULER": "false", "THREADCREW_HEALTH": "true"})


def one_agent_team(path: Path, base_url: str) -> Path:
    """The planner alone with the people: one short model call per mention, then it waits for them."""
    return write_team(
        path,
        base_url,
        agents=[{"name": "planner", "system_message": "Planner. You plan the work."}],
        group_chat={"speaker_selection": "round_robin", "max_round": 4},
        code_execution={"executor": "none"},
    )


@dataclass
class SlackSide:
    """What a bot process serving Slack's HTTP mode meets: the fake Slack, a sender of signed
    requests to the bot's port, and the process's environment (the model scripted behind it)."""

    slack: FakeSlack
    sender: SlackSender
    env: dict[str, str]
    port: int
    database: Path


@contextlib.asynccontextmanager
async def slack_side(tmp_path: Path) -> AsyncIterator[SlackSide]:
    data = tmp_path / "data"
    port = free_port()
    with ScriptedOpenAI(responder=Crew()) as server:
        async with FakeSlack() as slack:
            env = slack_bot_env(data, one_agent_team(tmp_path / "crew.yaml", server.base_url), slack, port)
            sender = SlackSender(f"http://127.0.0.1:{port}/slack/events")
            try:
                yield SlackSide(slack, sender, env, port, data / "threadcrew.db")
            finally:
                await sender.close()


async def terminated(process: asyncio.subprocess.Process) -> None:
    """SIGTERM ``process``; it ends cleanly (exit code 0) within a minute."""
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()


@contextlib.asynccontextmanager
async def bot_process(env: dict[str, str]) -> AsyncIterator[asyncio.subprocess.Process]:
    """``threadcrew run --platform slack``; killed on the way out if the test did not end it."""
    process = await asyncio.create_subprocess_exec(*THREADCREW, "run", "--platform", "slack", env=env, stderr=PIPE)
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.communicate()


async def until_ready(port: int, process: asyncio.subprocess.Process, within: float = 60) -> None:
    """Until the bot says it is ready (``/readyz``: the database answers, Slack's routes are served)."""
    async with asyncio.timeout(within), aiohttp.ClientSession() as session:
        while True:
            assert process.returncode is None, "the bot ended before it was ready"
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)


def mention_body(index: int) -> dict[str, Any]:
    ts = f"1700001{index:03d}.000100"
    event = {"type": "app_mention", "user": "UALICE", "text": f"<@UBOT> task {index}", "ts": ts, "channel": "C1"}
    return event_body(event, event_id=f"EvBurst{index:04d}")


def stored(database: Path) -> tuple[Counter[str], int, dict[str, str]]:
    """What the bot's database holds: people's messages per thread, inbox rows, status per thread."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        said = Counter(
            thread
            for (thread,) in db.execute(
                "SELECT c.thread_id FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                "WHERE m.author_kind = 'human'"
            )
        )
        inbox = db.execute("SELECT count(*) FROM inbox").fetchone()[0]
        statuses = dict(db.execute("SELECT thread_id, status FROM conversations").fetchall())
    return said, inbox, statuses


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_a_bot_killed_as_the_last_of_200_mentions_is_acknowledged_handles_all_of_them_once(
    tmp_path: Path,
) -> None:
    bodies = [mention_body(i) for i in range(MENTIONS)]
    threads = {body["event"]["ts"] for body in bodies}
    async with slack_side(tmp_path) as side:
        slack, sender = side.slack, side.sender
        async with bot_process(side.env) as first:
            await until_ready(side.port, first)
            answers = await asyncio.gather(*(sender.event(body) for body in bodies))
            first.kill()  # the moment the last one is acknowledged
            await first.wait()
        assert first.returncode == -signal.SIGKILL
        assert [status for status, _ in answers] == [200] * MENTIONS
        _, waiting, _ = stored(side.database)
        assert waiting > 0, "the kill came after everything was handled: it tested nothing"

        async with bot_process(side.env) as second:
            await slack.wait_for(
                lambda s: {p.thread_ts for p in s.posted if p.username == AGENT} >= threads, within=180
            )
            await until_settled(side.database, threads)
            await terminated(second)

    said, inbox, statuses = stored(side.database)
    assert inbox == 0
    assert set(statuses) == threads
    assert set(statuses.values()) == {"waiting"}
    assert said == Counter(dict.fromkeys(threads, 1)), "a mention was handled twice (or not at all)"
    answered = Counter(p.thread_ts for p in slack.posted if p.username == AGENT)
    assert answered == Counter(dict.fromkeys(threads, 1)), "a thread got its answer twice (or none)"


async def until_settled(database: Path, threads: set[str], within: float = 60) -> None:
    """Until every thread's conversation waits for people and the inbox is empty."""
    async with asyncio.timeout(within):
        while True:
            _, inbox, statuses = await asyncio.to_thread(stored, database)
            if not inbox and set(statuses) == threads and set(statuses.values()) == {"waiting"}:
                return
            await asyncio.sleep(0.2)


@pytest.mark.timeout(120)
async def test_a_mention_killed_between_its_200_and_its_hand_over_is_handled_after_the_restart(
    tmp_path: Path,
) -> None:
    # Slack hears 200 once the event is kept as Slack sent it; the bot takes it from there
    # (here it waits for Slack to say who wrote it) and is killed before it has.
    body = mention_body(1)
    async with slack_side(tmp_path) as side:
        slack, sender = side.slack, side.sender
        async with bot_process(side.env) as first:
            await until_ready(side.port, first)
            names = slack.hold("users.info")
            assert (await sender.event(body))[0] == 200
            await slack.wait_for(lambda s: bool(s.calls_of("users.info")))
            first.kill()
            await first.wait()
        assert kept_as_sent(side.database) == 1
        assert stored(side.database)[1] == 1  # that one row: no event handed over yet
        names.set()

        async with bot_process(side.env) as second:
            await slack.wait_for(lambda s: any(p.username == AGENT for p in s.posted), within=60)
            await until_settled(side.database, {body["event"]["ts"]})
            assert (await sender.event(body, retry=1))[0] == 200  # Slack's retry: a duplicate
            await terminated(second)

    said, inbox, _ = stored(side.database)
    assert inbox == 0
    assert said == Counter({body["event"]["ts"]: 1})
    assert [p.username for p in slack.posted].count(AGENT) == 1


def kept_as_sent(database: Path) -> int:
    """Slack's events the bot keeps as Slack sent them, not handed over yet."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        return int(db.execute("SELECT count(*) FROM inbox WHERE platform = 'slack-requests'").fetchone()[0])
