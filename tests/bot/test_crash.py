"""The bot as a process killed with SIGKILL mid-run: after a restart the conversation finishes,
with no message lost and none posted twice."""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.bot.crew import DONE, Crew, write_team
from tests.fakes.openai_server import ScriptedOpenAI
from tests.fakes.terminal import Terminal, clean_env

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
    # The people's second message reached the model, as the people's.
    assert any({"role": "user", "name": "user", "content": "use blue bars"} in m for m in crew.requests_of("planner"))
