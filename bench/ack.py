"""How fast Slack hears "200" when 1,000 signed mentions come at once (Slack gives up after 3 s).

    python -m bench.ack [--mentions 1000] [--latency 0.2]

The bot runs as its own process (``threadcrew run --platform slack``, HTTP mode, SQLite in a
temporary dir) against the fake Slack Web API and the scripted model, each in a process of its
own; it answers a mention only once the mention is in its inbox (committed). This process sends
every mention at once, each signed, on its own connection, and times each answer. Two floors
run the same burst in the same run, each a bare aiohttp server in its own process: one answers
at once (the cost of HTTP here), one checks the signature and inserts the event into SQLite
(WAL, ``synchronous=NORMAL``, one commit per request) before answering, as a hand-written
receiver would. The goals: p99 at most 1 s (far inside Slack's 3 s) and at most twice the
second floor's p99.

Socket Mode the same way: the fake Slack (its own process) sends the burst's mentions as
envelopes on the one WebSocket the bot opened and times each ack; the floors are bare WebSocket
clients, one acking at once, one after inserting the event into SQLite as above.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import hashlib
import hmac
import json
import os
import socket
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp
import yaml
from aiohttp import web

from bench.__main__ import ROOT, goal, scripted_server
from tests.fakes.slack_api import SIGNING_SECRET, FakeSlack

SLACK_LIMIT_MS = 3000.0
GOAL_MS = 1000.0  # "far inside" Slack's 3 s: a third of it
GOAL_RATIO = 2.0  # and within twice the signature + SQLite floor of the same run
PEOPLE = 50  # the burst's mentions come from this many people (each looked up once)
BOT = [sys.executable, "-c", "from bot.cli import main; main()", "run", "--platform", "slack"]
BOT_ENV = {"PYTHONPATH": str(ROOT), "THREADCREW_HEALTH": "true", "THREADCREW_SCHEDULER": "false"}

Results = dict[str, list[float]]  # the scenario's key -> its latencies in ms, sorted


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def signed(body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def person(index: int) -> str:
    return f"U{index:04d}"


def mentions(count: int) -> list[bytes]:
    """``count`` app_mention callbacks, each starting its own thread."""
    bodies = []
    for i in range(count):
        event = {
            "type": "app_mention",
            "user": person(i % PEOPLE),
            "text": f"<@UBOT> task {i}",
            "ts": f"17000{i:05d}.000100",
            "channel": "C1",
        }
        callback = {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "A1",
            "event": event,
            "type": "event_callback",
            "event_id": f"EvAck{i:05d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
        }
        bodies.append(json.dumps(callback).encode())
    return bodies


async def burst(url: str, bodies: Sequence[bytes]) -> list[float]:
    """Send every body at once (each on its own connection); each answer's latency in ms, sorted."""
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:

        async def one(body: bytes) -> float:
            headers = signed(body)
            start = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{url} answered {response.status}")
            return (time.perf_counter() - start) * 1000

        return sorted(await asyncio.gather(*(one(body) for body in bodies)))


async def until_ready(url: str, process: asyncio.subprocess.Process, within: float = 60) -> None:
    async with asyncio.timeout(within), aiohttp.ClientSession() as session:
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"{url} did not start (exit code {process.returncode})")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def serving(command: list[str], env: dict[str, str], ready: str) -> AsyncIterator[None]:
    """``command`` running (as a process) until the block ends, once ``ready`` answers 200."""
    process = await asyncio.create_subprocess_exec(*command, cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL)
    try:
        await until_ready(ready, process)
        yield
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 60)
        except TimeoutError:
            process.kill()
            raise


def percentiles(latencies: Sequence[float]) -> tuple[float, float, float]:
    """p50, p99 and the slowest, in ms (``latencies`` sorted)."""
    return latencies[len(latencies) // 2], latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], latencies[-1]


# -- the floors -------------------------------------------------------------------------------------------


class FloorInbox:
    """The floors' inbox: one SQLite file (WAL, ``synchronous=NORMAL``), one commit per event, on
    a writer thread of its own."""

    def __init__(self, database: Path) -> None:
        self.connection = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=NORMAL")
        self.connection.execute(
            "CREATE TABLE IF NOT EXISTS inbox (id INTEGER PRIMARY KEY, key TEXT UNIQUE, payload TEXT)"
        )
        self.writer = ThreadPoolExecutor(1)

    def _insert(self, key: str, payload: str) -> None:
        with self.connection:
            self.connection.execute("BEGIN IMMEDIATE")
            self.connection.execute("INSERT INTO inbox (key, payload) VALUES (?, ?)", (key, payload))

    async def insert(self, key: str, payload: str) -> None:
        await asyncio.get_running_loop().run_in_executor(self.writer, self._insert, key, payload)


def floor_app(database: Path | None) -> web.Application:
    """An aiohttp app answering Slack's events at once, or (``database``) once each is inserted."""
    inbox = FloorInbox(database) if database is not None else None

    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        if inbox is None:
            return web.Response(text="")
        stamp = request.headers["X-Slack-Request-Timestamp"]
        digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(f"v0={digest}", request.headers["X-Slack-Signature"]):
            return web.Response(status=401)
        await inbox.insert(json.loads(body)["event_id"], body.decode())
        return web.Response(text="")

    app = web.Application()
    app.add_routes([web.post("/slack/events", events), web.get("/readyz", lambda _: _ok())])
    return app


async def socket_floor(url: str, database: Path | None) -> None:
    """A bare Socket Mode client: acks each envelope at once, or (``database``) once it is inserted."""
    inbox = FloorInbox(database) if database is not None else None
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as socket:
        async for message in socket:
            envelope = json.loads(message.data)
            if "envelope_id" not in envelope:
                continue  # hello
            if inbox is not None:
                await inbox.insert(envelope["payload"]["event_id"], json.dumps(envelope["payload"]))
            await socket.send_str(json.dumps({"envelope_id": envelope["envelope_id"]}))


async def _ok() -> web.Response:
    return web.Response(text="ok")


def serve_floor(port: int, database: Path | None) -> None:
    web.run_app(floor_app(database), host="127.0.0.1", port=port, print=None)


def serve_slack(port: int) -> None:
    """The fake Slack Web API in a process of its own: the bot's calls (who it is, each person's
    name, its posts) are answered by Slack's servers, not by the machine sending the burst."""
    slack = FakeSlack()
    slack.port = port
    slack.users.update({person(i): f"person {i}" for i in range(PEOPLE)})
    app = web.Application()
    slack.add_routes(app)
    app.router.add_post("/bench/socket-burst", functools.partial(socket_burst, slack))
    web.run_app(app, host="127.0.0.1", port=port, print=None)


async def socket_burst(slack: FakeSlack, request: web.Request) -> web.Response:
    """Send ``?count=`` mentions as Socket Mode envelopes to the client connected, as fast as the
    socket takes them; answers each ack's latency in ms, sorted."""
    await slack.wait_for_socket(within=60)
    sent: dict[str, float] = {}
    for i, body in enumerate(mentions(int(request.query["count"]))):
        envelope = {"envelope_id": f"bench-{i}", "type": "events_api", "payload": json.loads(body)}
        sent[envelope["envelope_id"]] = time.perf_counter()
        await slack.socket_send({**envelope, "accepts_response_payload": False, "retry_attempt": 0})
    await slack.wait_for(lambda s: all(e in s.socket_acked_at for e in sent), within=120)
    return web.json_response(sorted((slack.socket_acked_at[e] - at) * 1000 for e, at in sent.items()))


# -- the run -----------------------------------------------------------------------------------------------


def team_file(directory: Path, model_port: int) -> Path:
    path = directory / "ack.yaml"
    team = {
        "name": "ack",
        "models": {
            "default": {"model": "gpt-4o-mini", "base_url": f"http://127.0.0.1:{model_port}/v1", "api_key": "sk-bench"}
        },
        "agents": [{"name": "planner", "system_message": "You plan."}],
        "code_execution": {"executor": "none"},
        "group_chat": {"speaker_selection": "round_robin", "max_round": 4},
    }
    path.write_text(yaml.safe_dump(team))
    return path


def stored(database: Path) -> int:
    """How many of the burst's mentions the bot has claimed (kept in its inbox as Slack sent them,
    or as events, or handled)."""
    query = (
        "SELECT count(DISTINCT substr(event_key, instr(event_key, ':') + 1)) FROM processed_events "
        "WHERE event_key LIKE 'request:EvAck%' OR event_key LIKE 'event:EvAck%'"
    )
    with contextlib.closing(sqlite3.connect(database)) as db:
        return int(db.execute(query).fetchone()[0])


async def measure(count: int, latency: float) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("THREADCREW_", "OPENAI_"))}
    with tempfile.TemporaryDirectory(prefix="threadcrew-ack-") as tmp, scripted_server(latency) as model_port:
        directory = Path(tmp)
        team = team_file(directory, model_port)
        (directory / "http").mkdir()
        (directory / "socket").mkdir()
        http = await measure_http(count, directory / "http", env, team)
        socket = await measure_socket(count, directory / "socket", env, team)
    report("HTTP", count, *http, HTTP_LABELS)
    report("Socket Mode", count, *socket, SOCKET_LABELS)


async def measure_http(count: int, directory: Path, env: dict[str, str], team: Path) -> tuple[Results, int]:
    bodies = mentions(count)
    results: Results = {}
    for label, database in (("empty", None), ("sqlite", directory / "floor.db")):
        port = free_port()
        args = [sys.executable, "-m", "bench.ack", "--floor", str(port)]
        args += ["--database", str(database)] if database else []
        async with serving(args, env, f"http://127.0.0.1:{port}/readyz"):
            results[label] = await burst(f"http://127.0.0.1:{port}/slack/events", bodies)
    async with fake_slack(env) as slack:
        port = free_port()
        bot_env = {**env, **slack.http_env(directory / "data", team, port), **BOT_ENV}
        async with serving(BOT, bot_env, f"http://127.0.0.1:{port}/readyz"):
            results["bot"] = await burst(f"http://127.0.0.1:{port}/slack/events", bodies)
            kept = stored(directory / "data" / "threadcrew.db")
    return results, kept


async def measure_socket(count: int, directory: Path, env: dict[str, str], team: Path) -> tuple[Results, int]:
    results: Results = {}
    for label, database in (("empty", None), ("sqlite", directory / "floor.db")):
        async with fake_slack(env) as slack:
            args = [sys.executable, "-m", "bench.ack", "--socket-floor", f"ws://127.0.0.1:{slack.port}/socket"]
            args += ["--database", str(database)] if database else []
            async with serving(args, env, f"{slack.api_url}api.test"):  # the burst waits for its socket
                results[label] = await socket_burst_through(slack, count)
    async with fake_slack(env) as slack:
        port = free_port()
        bot_env = {**env, **slack.socket_env(directory / "data", team, port), **BOT_ENV}
        async with serving(BOT, bot_env, f"http://127.0.0.1:{port}/readyz"):  # ready: its socket is open
            results["bot"] = await socket_burst_through(slack, count)
            kept = stored(directory / "data" / "threadcrew.db")
    return results, kept


@contextlib.asynccontextmanager
async def fake_slack(env: dict[str, str]) -> AsyncIterator[FakeSlack]:
    """The fake Slack served by a process of its own (see serve_slack); the object yielded is for its settings."""
    slack = FakeSlack()
    slack.port = free_port()
    async with serving(
        [sys.executable, "-m", "bench.ack", "--slack", str(slack.port)], env, f"{slack.api_url}api.test"
    ):
        yield slack


async def socket_burst_through(slack: FakeSlack, count: int) -> list[float]:
    """The fake Slack's process sends the burst on the socket and times the acks (see socket_burst)."""
    url = f"http://127.0.0.1:{slack.port}/bench/socket-burst"
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session,
        session.post(url, params={"count": count}) as answer,
    ):
        answer.raise_for_status()
        return [float(ms) for ms in await answer.json()]


HTTP_LABELS = {
    "empty": "bare aiohttp, answers at once",
    "sqlite": "bare aiohttp, signature + one SQLite commit each",
    "bot": "threadcrew bot, in the inbox before the 200",
}
SOCKET_LABELS = {
    "empty": "bare WebSocket client, acks at once",
    "sqlite": "bare WebSocket client, one SQLite commit each",
    "bot": "threadcrew bot, in the inbox before the ack",
}


def report(mode: str, count: int, results: Results, kept: int, labels: dict[str, str]) -> None:
    load = f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    print(f"\n== Slack's {mode} acknowledgement under a burst of {count} mentions at once (limit 3 s); {load}")
    print(f"{'':<52}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'p99 / 3 s':>11}")
    for key, label in labels.items():
        p50, p99, slowest = percentiles(results[key])
        print(f"{label:<52}{p50:9.0f}{p99:9.0f}{slowest:9.0f}{p99 / SLACK_LIMIT_MS:10.2f}x")
    bot_p99, floor_p99 = percentiles(results["bot"])[1], percentiles(results["sqlite"])[1]
    print(f"{'threadcrew p99 / SQLite floor p99':<52}{bot_p99 / floor_p99:9.2f}x   (goal: p99 far inside 3 s)")
    print(f"{'mentions in the inbox (or handled) when answered':<52}{kept:>9} of {count}")
    ratio = bot_p99 / floor_p99
    versus = f"floor p99 {floor_p99:,.0f} ms ({labels['sqlite'].split(', ', 1)[1]}): {ratio:.2f}x"
    print(
        goal(
            f"{mode} ack p99, far inside 3 s", f"{bot_p99:,.0f} ms", f"<= {GOAL_MS:,.0f} ms", bot_p99 <= GOAL_MS, versus
        )
    )
    print(goal(f"{mode} ack p99 / floor p99", f"{ratio:.2f}x", f"<= {GOAL_RATIO:.1f}x", ratio <= GOAL_RATIO, versus))
    print(goal(f"{mode}: mentions kept before their answer", f"{kept} of {count}", "all", kept == count))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mentions", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.2, help="the scripted model's latency, seconds")
    parser.add_argument("--floor", type=int, help=argparse.SUPPRESS)  # serve a floor on this port
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--slack", type=int, help=argparse.SUPPRESS)  # serve the fake Slack Web API on this port
    parser.add_argument("--socket-floor", help=argparse.SUPPRESS)  # a bare Socket Mode client of this socket
    args = parser.parse_args()
    if args.floor is not None:
        serve_floor(args.floor, args.database)
        return
    if args.socket_floor is not None:
        asyncio.run(socket_floor(args.socket_floor, args.database))
        return
    if args.slack is not None:
        serve_slack(args.slack)
        return
    asyncio.run(measure(args.mentions, args.latency))


if __name__ == "__main__":
    main()
