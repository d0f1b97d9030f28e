"""SIGTERM on ``threadcrew run`` against the fake Slack: intake stops, the step under way finishes
within ``THREADCREW_DRAIN_SECONDS`` (stored and posted), the rest is left for the next start."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sqlite3
from asyncio.subprocess import PIPE
from pathlib import Path

import pytest

from adapters import InMemoryPlatform
from bot.app import Bot
from bot.teams import TeamCatalog
from tests.bot.crew import Crew, running_bot, settings_for, write_team
from tests.fakes.openai_server import ScriptedOpenAI
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.fakes.slack_requests import event_body
from tests.fakes.terminal import THREADCREW, clean_env

ROOT_TS = "1700000000.000100"
SHUTTING_DOWN = b"shutting down: finishing the steps under way"


async def read_until(stream: asyncio.StreamReader | None, text: bytes, within: float = 60) -> bytes:
    """What ``stream`` gave up to and including the line that holds ``text``."""
    assert stream is not None
    seen = b""
    async with asyncio.timeout(within):
        while text not in seen:
            line = await stream.readline()
            if not line:
                raise AssertionError(f"the stream ended before {text!r}: {seen.decode()}")
            seen += line
    return seen


@pytest.mark.parametrize("step", ["finishes", "outlasts the drain"])
async def test_sigterm_mid_step_lets_the_step_finish_within_the_drain_time_and_leaves_the_rest(
    tmp_path: Path, step: str
) -> None:
    crew = Crew()
    data = tmp_path / "data"
    finishes = step == "finishes"
    with ScriptedOpenAI(responder=crew) as server:
        async with FakeSlack() as slack:
            env = clean_env(
                {
                    "THREADCREW_DATA_DIR": str(data),
                    "THREADCREW_TEAM": str(write_team(tmp_path / "crew.yaml", server.base_url)),
                    "THREADCREW_SLACK_BOT_TOKEN": BOT_TOKEN,
                    "THREADCREW_SLACK_APP_TOKEN": APP_TOKEN,
                    "THREADCREW_SLACK_API_URL": slack.api_url,
                    # Long enough for the held step once it is let go; short when the step never ends.
                    "THREADCREW_DRAIN_SECONDS": "30" if finishes else "0.5",
                }
            )
            gate = crew.hold("coder")
            process = await asyncio.create_subprocess_exec(
                *THREADCREW, "run", "--platform", "slack", env=env, stdout=PIPE, stderr=PIPE
            )
            try:
                await slack.wait_for_socket(within=60)
                event = {"type": "app_mention", "user": "UALICE", "text": "<@UBOT> chart it", "ts": ROOT_TS}
                envelope = {
                    "envelope_id": "e1",
                    "type": "events_api",
                    "payload": event_body({**event, "channel": "C1"}),
                }
                await slack.socket_send({**envelope, "accepts_response_payload": False})
                await crew.arrived("coder", within=60)  # the coder's step waits on the model
                process.send_signal(signal.SIGTERM)  # what a deploy does
                await read_until(process.stderr, SHUTTING_DOWN)  # the bot took it: no new step starts now
                if finishes:
                    gate.set()  # the step under way ends during the drain
                _, stderr = await asyncio.wait_for(process.communicate(), 60)
            finally:
                gate.set()
                if process.returncode is None:
                    process.kill()
                    await process.communicate()
    assert process.returncode == 0, stderr.decode()

    with contextlib.closing(sqlite3.connect(data / "threadcrew.db")) as db:
        stored = [row[0] for row in db.execute("SELECT author_id FROM messages ORDER BY seq")]
        unposted = db.execute("SELECT count(*) FROM messages WHERE posted_at IS NULL").fetchone()[0]
        status = db.execute("SELECT status FROM conversations").fetchone()[0]
    said = ["planner", "coder"] if finishes else ["planner"]
    assert stored == ["UALICE", *said]
    assert unposted == 0  # what the step stored went out before the process ended
    assert [p.username for p in slack.in_thread("C1", ROOT_TS)] == ["Plan Bot", *said[1:]]
    assert status == "running"  # the rest of the run is left for the next start
    assert crew.seen("reviewer") == 0


async def test_sigterm_while_the_bot_starts_closes_it_once_started_instead_of_killing_it(tmp_path: Path) -> None:
    """A deploy may stop the bot while it is still starting; the signal must reach the bot's own
    handler (close, drain) rather than the process's default (die with a step under way)."""
    reached_default: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, _frame: reached_default.append(signum))

    def platform(db: object) -> InMemoryPlatform:  # built while the bot starts
        os.kill(os.getpid(), signal.SIGTERM)
        return InMemoryPlatform()

    catalog = TeamCatalog()
    catalog.add_file(write_team(tmp_path / "crew.yaml", "http://127.0.0.1:9/v1"), default=True)
    bot = Bot(settings_for(tmp_path / "data"), platform, catalog)
    try:
        await asyncio.wait_for(bot.run(), 30)  # returns only once the bot's handler closed it
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert reached_default == []
    assert bot.started.is_set()  # it finished starting, then closed


async def test_no_step_starts_once_the_bot_says_it_is_shutting_down(tmp_path: Path) -> None:
    """The line a deploy's log shows is true when it is written: the work has stopped taking steps
    (it was written a few turns of the event loop before, and a step ending then started the next)."""
    stopped_at_the_line: list[bool] = []
    written = asyncio.Event()

    class AtTheLine(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage() == SHUTTING_DOWN.decode():
                assert bot.bot.dispatcher is not None
                stopped_at_the_line.append(bot.bot.dispatcher.stopped)
                written.set()

    at_the_line = AtTheLine()
    logging.getLogger("bot.app").addHandler(at_the_line)
    try:
        with ScriptedOpenAI(responder=Crew()) as server:
            async with running_bot(tmp_path / "data", write_team(tmp_path / "crew.yaml", server.base_url)) as bot:
                os.kill(os.getpid(), signal.SIGTERM)  # what a deploy does; the bot's handler takes it
                await asyncio.wait_for(written.wait(), 10)
    finally:
        logging.getLogger("bot.app").removeHandler(at_the_line)
    assert stopped_at_the_line == [True]
