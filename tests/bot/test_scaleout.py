"""Three bot processes on one PostgreSQL database: an intake serving Slack's HTTP mode and two
workers. Fifty threads mentioned at once all finish; a worker killed mid-run leaves its threads
to the other, with no message lost and none posted twice (the stored transcripts against what
the fake Slack received)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import time
from asyncio.subprocess import PIPE, Process
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest

from tests.bot.crew import DONE, Crew, write_team
from tests.fakes.openai_server import Reply, ScriptedOpenAI, text
from tests.fakes.slack_api import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.fakes.slack_requests import SlackSender, event_body
from tests.fakes.terminal import THREADCREW, clean_env

THREADS = 50
HELD = 5  # coder replies held back, so that the first worker is mid-step when it is killed


class FinishingCrew(Crew):
    """The crew, whose reviewer ends the run at once (no question for people)."""

    def _default(self, role: str, messages: list[dict[str, Any]]) -> Reply:
        return text(DONE) if role == "reviewer" else super()._default(role, messages)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def finished(url: str) -> int:
    """Conversations finished, less one for each job left to run (the queue has drained at ``THREADS``)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM conversations WHERE status = 'finished')"
            " - (SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing'))"
        ).fetchone()
    return int(row[0]) if row else 0


async def until_finished(url: str, count: int, within: float = 180) -> None:
    """Until ``count`` conversations are finished and no job is left (the bots write both)."""
    deadline = time.monotonic() + within
    while (done := await asyncio.to_thread(finished, url)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{done} of {count} conversations finished (less jobs left) within {within} s")
        await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def bot_process(env: dict[str, str], role: str) -> AsyncIterator[Process]:
    """``threadcrew run --role ROLE``; SIGTERM at the end (it must exit 0), unless killed before."""
    command = [*THREADCREW, "run", "--platform", "slack", "--role", role]
    process = await asyncio.create_subprocess_exec(*command, env=env, stdin=PIPE, stdout=PIPE, stderr=PIPE)
    try:
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
        if process.returncode != -signal.SIGKILL:
            assert process.returncode == 0, f"the {role} exited with {process.returncode}: {stderr.decode()[-3000:]}"


async def mention_all(sender: SlackSender, roots: list[str]) -> None:
    """Mention the bot in ``roots`` (new threads in C1), at once; the first waits for the web server."""
    for _ in range(300):  # until the intake's web server answers (503 while it starts)
        with contextlib.suppress(aiohttp.ClientError):
            status, _ = await sender.event(event_body(mention(roots[0])))
            if status == 200:
                break
        await asyncio.sleep(0.05)
    await asyncio.gather(*(sender.event(event_body(mention(root))) for root in roots[1:]))


def mention(root: str) -> dict[str, Any]:
    return {"type": "app_mention", "user": "UALICE", "text": f"<@UBOT> task {root}", "ts": root, "channel": "C1"}


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_an_intake_and_two_workers_finish_fifty_threads_and_survive_a_killed_worker(
    tmp_path: Path, postgres: str
) -> None:
    model = FinishingCrew()
    port = free_port()
    roots = [f"1700000000.{i:06d}" for i in range(1, THREADS + 1)]
    with ScriptedOpenAI(responder=model) as server:
        async with FakeSlack() as slack:
            base = {
                "THREADCREW_DATABASE_URL": postgres,
                "THREADCREW_TEAM": str(write_team(tmp_path / "crew.yaml", server.base_url)),
                "THREADCREW_SLACK_MODE": "http",
                "THREADCREW_SLACK_BOT_TOKEN": BOT_TOKEN,
                "THREADCREW_SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "THREADCREW_SLACK_API_URL": slack.api_url,
                "THREADCREW_HTTP_HOST": "127.0.0.1",
                "THREADCREW_HTTP_PORT": str(port),
                "THREADCREW_QUEUE_STALL_SECONDS": "2",  # a dead worker's jobs run elsewhere after 2 s
                "THREADCREW_SCHEDULER": "false",
            }

            def env(name: str) -> dict[str, str]:
                return clean_env({**base, "THREADCREW_DATA_DIR": str(tmp_path / name)})

            gates = [model.hold("coder") for _ in range(HELD)]
            sender = SlackSender(f"http://127.0.0.1:{port}/slack/events")
            try:
                async with bot_process(env("intake"), "intake"), bot_process(env("first"), "worker") as first:
                    await mention_all(sender, roots)
                    await model.arrived("coder", HELD, within=60)  # the first worker is mid-step on these
                    async with bot_process(env("second"), "worker"):
                        first.kill()  # SIGKILL: no drain, its jobs stay "doing"
                        await first.wait()
                        for gate in gates:
                            gate.set()  # the dead worker's requests are answered into the void
                        await until_finished(postgres, THREADS)
            finally:
                await sender.close()
    assert first.returncode == -signal.SIGKILL

    with psycopg.connect(postgres) as conn:
        conversations = dict(conn.execute("SELECT thread_id, id FROM conversations").fetchall())
        stored = conn.execute(
            "SELECT conversation_id, author_kind, author_id, platform_message_id, posted_at FROM messages ORDER BY seq"
        ).fetchall()
        left = conn.execute("SELECT count(*) FROM inbox").fetchone()
        jobs = conn.execute("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')").fetchone()
    assert sorted(conversations) == roots
    assert left == (0,)
    assert jobs == (0,)
    for root, conversation_id in conversations.items():
        mine = [row for row in stored if row[0] == conversation_id]
        posted_ids = [row[3] for row in mine if row[1] != "human"]
        assert all(row[4] is not None for row in mine if row[1] != "human"), f"{root}: a message was never posted"
        # What Slack shows in the thread is exactly what was stored, each message once.
        in_slack = [p.ts for p in slack.in_thread("C1", root) if not p.ephemeral_for]
        assert sorted(in_slack) == sorted(posted_ids), root
        speakers = [row[2] for row in mine if row[1] == "agent"]
        assert speakers == ["planner", "coder", "reviewer"], root
