"""Many threads at once through the whole bot: in-memory platform, dispatcher, sessions, SQLite.

    python -m bench.threads --port PORT --threads 1000 --turns 10 --latency 0.2

Each thread is mentioned once; its team (two agents that take turns, so speaker selection
needs no model call) talks for ``turns`` messages against the scripted server, which answers
after ``latency``. Prints one JSON line: wall time, RSS per thread, and the time from each
mention to its thread's first post, with the model's latency taken out (framework time).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import yaml

from adapters import InMemoryPlatform
from bench._measure import emit, rss_now_kb, rss_peak_kb
from bot.app import Bot
from bot.settings import Settings
from bot.teams import TeamCatalog


def team_file(directory: Path, port: int, turns: int) -> Path:
    path = directory / "bench.yaml"
    team = {
        "name": "bench",
        "models": {
            "default": {"model": "gpt-4o-mini", "base_url": f"http://127.0.0.1:{port}/v1", "api_key": "sk-bench"}
        },
        "agents": [
            {"name": "writer", "system_message": "You write."},
            {"name": "editor", "system_message": "You edit."},
        ],
        "code_execution": {"executor": "none"},
        # The people's message, then ``turns`` agent messages; writer and editor take turns.
        "group_chat": {
            "max_round": turns + 1,
            "transitions": {"user": ["writer"], "writer": ["editor"], "editor": ["writer"]},
        },
    }
    path.write_text(yaml.safe_dump(team))
    return path


async def run(port: int, threads: int, turns: int, latency: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="threadcrew-bench-") as tmp:
        directory = Path(tmp)
        catalog = TeamCatalog()
        catalog.add_file(team_file(directory, port, turns), default=True)
        platform = InMemoryPlatform()
        bot = Bot(Settings(data_dir=directory / "data", database_url=None), platform, catalog)
        serving = asyncio.create_task(bot.run())
        await bot.started.wait()
        expected = threads * (turns + 1)  # each agent message, and the note that the run reached its end

        rss_before = rss_now_kb()
        mentioned: dict[str, float] = {}
        start = time.perf_counter()
        for i in range(threads):
            mentioned[f"t{i}"] = time.monotonic()
            await platform.mention(f"t{i}", f"write piece {i}")
        await platform.wait_for(lambda posts: len(posts) >= expected, within=600)
        wall = time.perf_counter() - start
        rss_peak = rss_peak_kb()

        first: dict[str, float] = {}
        for post in platform.posts:
            first.setdefault(post.thread.thread_id, post.at)
        framework_ms = sorted((first[t] - mentioned[t] - latency) * 1000 for t in mentioned)
        await platform.close()
        await serving
    return {
        "wall": wall,
        "posts": len(platform.posts),
        "rss_per_thread_kb": (rss_peak - rss_before) / threads,
        "first_post_p50_ms": framework_ms[len(framework_ms) // 2],
        "first_post_p99_ms": framework_ms[min(len(framework_ms) - 1, int(len(framework_ms) * 0.99))],
        "first_post_max_ms": framework_ms[-1],
    }


def main() -> None:
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    emit(asyncio.run(run(args.port, args.threads, args.turns, args.latency)))


if __name__ == "__main__":
    main()
