"""Threads through separate bot processes on PostgreSQL: one intake (Slack's HTTP mode, against
the fake Slack Web API) and ``--workers`` worker processes taking the threads' jobs.

    python -m bench.scaleout --port PORT --workers 2 --threads 1000 --turns 5 --postgres URL

Each thread is mentioned once (signed requests into the intake); its team (two agents taking
turns, so speaker selection needs no model call) talks for ``turns`` messages against the
scripted server at ``PORT``. The clock runs from the first mention to the moment every
conversation is finished and no job is left. Prints one JSON line: wall time and messages.
Each run gets a database of its own, made from ``--postgres`` and dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import tempfile
import time
import uuid
import warnings
from asyncio.subprocess import DEVNULL, Process
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
from sqlalchemy import make_url

from bench._measure import emit
from bench.threads import team_file
from storage import Database, upgrade
from tests.fakes.slack_api import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.fakes.slack_requests import SlackSender, event_body

ROOT = Path(__file__).resolve().parent.parent
THREADCREW = [sys.executable, "-c", "from bot.cli import main; main()"]


@contextlib.contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    """A new database at the newest migration (procrastinate's schema included), dropped after."""
    name = f"threadcrew_bench_{uuid.uuid4().hex[:10]}"
    admin = make_url(admin_url).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def migrate(url: str) -> None:
    async with Database(url) as db:
        await upgrade(db)


def left(url: str) -> int:
    """Conversations not finished yet, plus jobs not done yet."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM conversations WHERE status <> 'finished')"
            " + (SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing'))"
        ).fetchone()
        return int(row[0]) if row else 0


def counted(url: str) -> tuple[int, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM conversations WHERE status = 'finished'),"
            " (SELECT count(*) FROM messages WHERE author_kind = 'agent')"
        ).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)


async def until_done(url: str, threads: int) -> None:
    while True:  # the bots write the database; nothing here to wait on but it
        if not await asyncio.to_thread(left, url) and counted(url)[0] >= threads:
            return
        await asyncio.sleep(0.25)


@contextlib.asynccontextmanager
async def process(env: dict[str, str], role: str, log: Path) -> AsyncIterator[Process]:
    command = [*THREADCREW, "run", "--platform", "slack", "--role", role]
    with log.open("wb") as errors:
        proc = await asyncio.create_subprocess_exec(*command, env=env, cwd=ROOT, stdout=DEVNULL, stderr=errors)
        try:
            yield proc
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 120)
    if proc.returncode != 0:
        said = await asyncio.to_thread(log.read_text)
        raise RuntimeError(f"the {role} exited with {proc.returncode}: {said[-2000:]}")


async def mention_all(sender: SlackSender, count: int) -> float:
    """Mention the bot in ``count`` new threads (the first once the intake answers); returns when it began."""

    def body(i: int) -> dict[str, Any]:
        root = f"1700000000.{i:06d}"
        return event_body(
            {"type": "app_mention", "user": "UALICE", "text": f"<@UBOT> write piece {i}", "ts": root, "channel": "C1"}
        )

    for _ in range(600):
        with contextlib.suppress(aiohttp.ClientError):
            if (await sender.event(body(0)))[0] == 200:
                break
        await asyncio.sleep(0.05)
    else:
        raise RuntimeError("the intake did not answer")
    start = time.perf_counter()
    gate = asyncio.Semaphore(32)  # as a load balancer's connections would

    async def one(i: int) -> None:
        async with gate:
            status, text = await sender.event(body(i))
            if status != 200:
                raise RuntimeError(f"the intake answered {status}: {text}")

    await asyncio.gather(*(one(i) for i in range(1, count)))
    return start


async def run(port: int, postgres: str, workers: int, threads: int, turns: int, concurrency: int) -> dict[str, Any]:
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="threadcrew-bench-") as tmp, scratch_database(postgres) as url:
        directory = Path(tmp)
        await migrate(url)
        migrated = time.perf_counter() - began
        http = socket.socket()
        http.bind(("127.0.0.1", 0))
        http_port = http.getsockname()[1]
        http.close()
        async with FakeSlack() as slack:
            base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "THREADCREW_"))}
            base.update(
                PYTHONPATH=str(ROOT),
                THREADCREW_DATABASE_URL=url,
                THREADCREW_TEAM=str(team_file(directory, port, turns)),
                THREADCREW_SLACK_MODE="http",
                THREADCREW_SLACK_BOT_TOKEN=BOT_TOKEN,
                THREADCREW_SLACK_SIGNING_SECRET=SIGNING_SECRET,
                THREADCREW_SLACK_API_URL=slack.api_url,
                THREADCREW_HTTP_HOST="127.0.0.1",
                THREADCREW_HTTP_PORT=str(http_port),
                THREADCREW_QUEUE_CONCURRENCY=str(concurrency),
                THREADCREW_SCHEDULER="false",
            )
            sender = SlackSender(f"http://127.0.0.1:{http_port}/slack/events")
            try:
                async with contextlib.AsyncExitStack() as stack:
                    intake = {**base, "THREADCREW_DATA_DIR": f"{tmp}/intake"}
                    await stack.enter_async_context(process(intake, "intake", directory / "intake.log"))
                    for n in range(workers):
                        env = {**base, "THREADCREW_DATA_DIR": f"{tmp}/worker{n}"}
                        await stack.enter_async_context(process(env, "worker", directory / f"worker{n}.log"))
                    start = await mention_all(sender, threads)
                    started = start - began
                    await until_done(url, threads)
                    wall = time.perf_counter() - start
                    stopping = time.perf_counter()
            finally:
                await sender.close()
        stopped = time.perf_counter() - stopping
        finished, messages = counted(url)
    return {
        "wall": wall,
        "threads": finished,
        "messages": messages,
        "migrated_s": migrated,
        "started_s": started,
        "stopped_s": stopped,
    }


def main() -> None:
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--postgres", required=True, help="an admin URL of the server (a database per run is made)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=200, help="threads one worker works on at once")
    args = parser.parse_args()
    emit(asyncio.run(run(args.port, args.postgres, args.workers, args.threads, args.turns, args.concurrency)))


if __name__ == "__main__":
    main()
