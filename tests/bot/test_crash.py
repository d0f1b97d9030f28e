"""The bot as a process killed with SIGKILL mid-run: after a restart the conversation finishes,
with no message lost and none posted twice."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import sqlite3
import time
from asyncio.subprocess import PIPE
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.bot.crew import DONE, Crew, write_team
from tests.fakes.openai_server import ScriptedOpenAI
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackSender, event_body
from tests.fakes.terminal import THREADCREW, Terminal, clean_env

ROOT_TS = "1700000000.000100"

SAID = {
    "planner": "planner on 'chart the squares'",
    "coder": "coder on 'chart the squares'",
    "reviewer": "Reviewed 'chart the squares'.",
}


@pytest.mark.parametrize("killed_during", ["coder", "reviewer"])
def test_a_bot_killed_mid_run_finishes_the_conversation_after_a_restart(tmp_path: Path, killed_during: str) -> None:
    crew = Crew()
    data = tmp_path / "data"
    with ScriptedOpenAI(responder=crew) as server:
        team = write_team(tmp_path / "crew.yaml", server.base_url)
        env = clean_env({"THREADCREW_DATA_DIR": str(data)})
        gate = crew.hold(killed_during)
        with Terminal(["run", "--team", str(team)], env=env, cwd=tmp_path) as first:
            first.type("chart the squares")
            first.expect("planner on 'chart the squares'")
            crew.wait_arrived(killed_during)  # the bot is waiting on the model for this step
            first.process.send_signal(signal.SIGKILL)
            assert first.ended() == -signal.SIGKILL
        gate.set()  # the dead bot's request is answered into the void

        with Terminal(["run", "--team", str(team)], env=env, cwd=tmp_path) as second:
            second.expect("The team is waiting for you")
            second.type("yes, ship it")
            second.expect(DONE)
            assert second.end_input() == 0, second.stderr

    printed = first.output + second.output
    for role, line in SAID.items():
        assert printed.count(line) == 1, f"{role}'s message was printed {printed.count(line)} times"
    posted = [line.split("\t")[0] for line in (data / "console-posted.log").read_text().splitlines()]
    assert len(posted) == len(set(posted)), "a message was posted twice"
    with sqlite3.connect(data / "threadcrew.db") as db:
        rows = db.execute("SELECT id, author_kind, author_id, posted_at FROM messages ORDER BY seq").fetchall()
        status = db.execute("SELECT status FROM conversations").fetchone()[0]
    assert status == "finished"
    assert all(posted_at is not None for *_, posted_at in rows), "a stored message was never posted"
    assert sorted(posted) == sorted(f"tc-{id_}" for id_, kind, *_ in rows if kind != "human")
    assert_waits_match_states(data / "threadcrew.db")
    spoke = Counter(author for _, kind, author, _ in rows if kind == "agent")
    for role in SAID:
        # One request per stored message, and one more for the killed step (its answer never came).
        assert crew.seen(role) == spoke[role] + (role == killed_during), role


def wait_for_row(database: Path, query: str, within: float = 20) -> None:
    """Until ``query`` (a count) is above zero in the bot's SQLite database (written by another process)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.closing(sqlite3.connect(database)) as db:
            if db.execute(query).fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError(f"{query!r} found nothing within {within} s")


def test_a_message_accepted_just_before_a_kill_is_heard_after_the_restart(tmp_path: Path) -> None:
    crew = Crew()
    data = tmp_path / "data"
    with ScriptedOpenAI(responder=crew) as server:
        team = write_team(tmp_path / "crew.yaml", server.base_url)
        env = clean_env({"THREADCREW_DATA_DIR": str(data)})
        gate = crew.hold("coder")
        with Terminal(["run", "--team", str(team)], env=env, cwd=tmp_path) as first:
            first.type("chart the squares")
            crew.wait_arrived("coder")
            first.type("use blue bars")  # accepted while the coder works; handled after its step
            wait_for_row(data / "threadcrew.db", "SELECT count(*) FROM inbox")
            first.process.send_signal(signal.SIGKILL)
            assert first.ended() == -signal.SIGKILL
        gate.set()

        with Terminal(["run", "--team", str(team)], env=env, cwd=tmp_path) as second:
            second.expect("The team is waiting for you")
            assert second.end_input() == 0, second.stderr

    with sqlite3.connect(data / "threadcrew.db") as db:
        said = [row[0] for row in db.execute("SELECT content FROM messages WHERE author_kind = 'human' ORDER BY seq")]
        left = db.execute("SELECT count(*) FROM inbox").fetchone()[0]
    assert said == ["chart the squares", "use blue bars"]
    assert left == 0
    assert_waits_match_states(data / "threadcrew.db")
    # The people's second message reached the model, as the people's.
    assert any({"role": "user", "name": "user", "content": "use blue bars"} in m for m in crew.requests_of("planner"))


def slack_process_env(data: Path, team: Path, slack: FakeSlack, port: int) -> dict[str, str]:
    """The environment of a bot process serving ``team`` on the fake Slack, in HTTP mode on ``port``."""
    return clean_env(slack.http_env(data, team, port))


async def send_once_listening(sender: SlackSender, body: dict[str, Any]) -> None:
    """Send ``body`` to a bot process that is starting: tried until it is answered 200, as Slack
    retries (the web server may listen before Slack's platform is ready, and answer 503 until then)."""
    for _ in range(200):
        with contextlib.suppress(aiohttp.ClientError):
            if (await sender.event(body))[0] == 200:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the bot did not take Slack's event within 10 s")


def assert_waits_match_states(database: Path) -> None:
    """The open rows in ``waits`` are exactly the waits the stored states refer to."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        open_ids = {row[0] for row in db.execute("SELECT id FROM waits WHERE answered_at IS NULL")}
        states = [json.loads(row[0]) for row in db.execute("SELECT state FROM conversations") if row[0]]
    assert open_ids == {s["wait_id"] for s in states if s.get("wait_id") is not None}


async def test_a_bot_serving_the_console_and_slack_killed_mid_run_recovers_both(tmp_path: Path) -> None:
    crew = Crew()
    data = tmp_path / "data"
    with socket.socket() as probe:  # a free port for the bot's web server (Slack's HTTP mode)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with ScriptedOpenAI(responder=crew) as server:
        async with FakeSlack() as slack:
            env = slack_process_env(data, write_team(tmp_path / "crew.yaml", server.base_url), slack, port)
            command = [*THREADCREW, "run", "--platform", "console", "--platform", "slack"]
            gates = [crew.hold("coder"), crew.hold("coder")]  # both threads stop at their coder
            first = await asyncio.create_subprocess_exec(*command, env=env, stdin=PIPE, stdout=PIPE, stderr=PIPE)
            sender = SlackSender(f"http://127.0.0.1:{port}/slack/events")
            try:
                assert first.stdin is not None
                first.stdin.write(b"chart the squares\n")
                await first.stdin.drain()
                mention = {"type": "app_mention", "user": "UALICE", "text": "<@UBOT> count the words"}
                await send_once_listening(sender, event_body({**mention, "ts": ROOT_TS, "channel": "C1"}))
                await crew.arrived("coder", 2)  # both runs are mid-step, waiting on the model
            finally:
                first.kill()
                await first.communicate()
                await sender.close()
            assert first.returncode == -signal.SIGKILL
            for gate in gates:
                gate.set()  # the dead bot's requests are answered into the void

            second = await asyncio.create_subprocess_exec(*command, env=env, stdin=PIPE, stdout=PIPE, stderr=PIPE)
            try:
                await slack.wait_for(lambda s: any("waiting for you" in p.text for p in s.in_thread("C1", ROOT_TS)))
                await asyncio.to_thread(
                    wait_for_row, data / "threadcrew.db", "SELECT count(*) FROM conversations WHERE status = 'waiting'"
                )
                await asyncio.to_thread(
                    wait_for_row,
                    data / "threadcrew.db",
                    "SELECT count(*) = 2 FROM conversations WHERE status = 'waiting'",
                )
            finally:
                second.send_signal(signal.SIGTERM)
                _, stderr = await asyncio.wait_for(second.communicate(), 60)
            assert second.returncode == 0, stderr.decode()

    assert [p.username for p in slack.in_thread("C1", ROOT_TS)] == ["Plan Bot", "coder", "reviewer", "threadcrew"]
    posted = [line.split("\t")[0] for line in (data / "console-posted.log").read_text().splitlines()]
    assert len(posted) == len(set(posted)), "a console message was posted twice"
    with contextlib.closing(sqlite3.connect(data / "threadcrew.db")) as db:
        threads = dict(db.execute("SELECT platform, status FROM conversations").fetchall())
        unposted = db.execute("SELECT count(*) FROM messages WHERE posted_at IS NULL").fetchone()[0]
    assert threads == {"console": "waiting", "slack": "waiting"}
    assert unposted == 0
    assert_waits_match_states(data / "threadcrew.db")
