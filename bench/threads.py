"""Threads through the whole bot: in-memory platform, dispatcher, sessions, SQLite.

    python -m bench.threads burst  --port PORT --threads 1000 --turns 10 --latency 0.2
    python -m bench.threads steady --port PORT --rate 100 --seconds 30 --turns 10 --latency 0.2
    python -m bench.threads long   --port PORT --steps 500

Each thread is mentioned once; its team (two agents that take turns, so speaker selection
needs no model call) talks for ``turns`` messages against the scripted server, which answers
after ``latency``. Each scenario prints one JSON line:

- ``burst``: every thread mentioned at once. Wall time, peak RSS per thread, the time from each
  mention to its thread's first post (with and without the model's latency), and how many
  thread sessions are still in memory once every run has ended.
- ``steady``: ``rate`` new mentions a second for ``seconds``, while the runs of the earlier
  ones go on: the time from each mention to its thread's first post, less the model
  (``--max-steps``: with ``THREADCREW_MAX_STEPS``).
- ``long``: one thread of ``steps`` agent messages (a model with no latency): what each step's
  save costs (storing its messages and the run's state, and marking them posted), in order.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import logging
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import yaml

from adapters import InMemoryPlatform
from bench._measure import emit, rss_now_kb, rss_peak_kb
from bot.app import Bot
from bot.session import ThreadSession
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


@contextlib.asynccontextmanager
async def serving(port: int, turns: int, max_steps: int | None = None) -> AsyncIterator[tuple[Bot, InMemoryPlatform]]:
    """The bot on an in-memory platform and a fresh SQLite file, serving the bench team
    (``max_steps``: ``THREADCREW_MAX_STEPS``)."""
    with tempfile.TemporaryDirectory(prefix="threadcrew-bench-") as tmp:
        directory = Path(tmp)
        catalog = TeamCatalog()
        catalog.add_file(team_file(directory, port, turns), default=True)
        platform = InMemoryPlatform()
        bot = Bot(Settings(data_dir=directory / "data", database_url=None, max_steps=max_steps), platform, catalog)
        task = asyncio.create_task(bot.run())
        await bot.started.wait()
        try:
            # One thread first, to its end: the floors warm up too (imports, the first connection).
            await platform.mention("warm-up", "warm up")
            await all_posted(platform, ["warm-up"], turns + 1, within=600)
            platform.posts.clear()
            yield bot, platform
        finally:
            await platform.close()
            await task


STALLED_SECONDS = 120.0  # no post for this long: the posts still missing will not come (the sweep runs every 60 s)


async def all_posted(platform: InMemoryPlatform, threads: list[str], each: int, within: float) -> None:
    """Until ``threads`` have ``each`` posts apiece (counted together: a check per post must stay cheap).

    Raises:
        RuntimeError: no post came for ``STALLED_SECONDS``, or they did not all come within ``within``
            seconds; it names the threads short of posts, rather than leaving the run to hang.
    """
    target, began, seen = len(threads) * each, time.monotonic(), -1
    while len(platform.posts) < target:
        left = began + within - time.monotonic()
        if len(platform.posts) == seen or left <= 0:
            why = f"none in the last {STALLED_SECONDS:g} s" if left > 0 else f"not all within {within:g} s"
            raise RuntimeError(short_of_posts(platform, threads, each, why))
        seen = len(platform.posts)
        with contextlib.suppress(TimeoutError):
            await platform.wait_for(lambda posts: len(posts) >= target, within=min(STALLED_SECONDS, left))


def short_of_posts(platform: InMemoryPlatform, threads: list[str], each: int, why: str) -> str:
    """Which threads have fewer than ``each`` posts, and what the first of them got."""
    counts = collections.Counter(post.thread.thread_id for post in platform.posts)
    short = [t for t in threads if counts[t] < each]
    named = ", ".join(f"{t} ({counts[t]})" for t in short[:20]) + (", ..." if len(short) > 20 else "")
    told = f"{len(platform.posts)} of {len(threads) * each} posts ({why}): "
    told += f"{len(short)} of {len(threads)} threads have fewer than {each}: {named or 'none (others have more)'}"
    if short:
        told += f"\n{short[0]} got: " + "; ".join(f"{p.author}: {p.text[:60]!r}" for p in platform.in_thread(short[0]))
    return told


def first_posts(platform: InMemoryPlatform, mentioned: dict[str, float], less: float) -> list[float]:
    """Milliseconds from each mention to its thread's first post, less ``less`` seconds, sorted."""
    first: dict[str, float] = {}
    for post in platform.posts:
        first.setdefault(post.thread.thread_id, post.at)
    return sorted((first[t] - mentioned[t] - less) * 1000 for t in mentioned)


def percentiles(name: str, values: list[float]) -> dict[str, float]:
    return {
        f"{name}_p50_ms": values[len(values) // 2],
        f"{name}_p99_ms": values[min(len(values) - 1, int(len(values) * 0.99))],
        f"{name}_max_ms": values[-1],
    }


async def burst(port: int, threads: int, turns: int, latency: float) -> dict[str, Any]:
    async with serving(port, turns) as (bot, platform):
        rss_before = rss_now_kb()
        mentioned: dict[str, float] = {}
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(threads):
            mentioned[f"t{i}"] = time.monotonic()
            await platform.mention(f"t{i}", f"write piece {i}")
        # Each agent message, and the note that the run reached its end.
        await all_posted(platform, list(mentioned), turns + 1, within=600)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        rss_peak = rss_peak_kb()
        assert bot.dispatcher is not None
        await bot.dispatcher.wait_idle()
        gc.collect()
        held = sum(isinstance(o, ThreadSession) for o in gc.get_objects())
    return {
        "wall": wall,
        "cpu": cpu,  # the bot process's CPU seconds (all its threads): steadier than wall on a shared machine
        "posts": len(platform.posts),
        "rss_per_thread_kb": (rss_peak - rss_before) / threads,
        "sessions_held_idle": held,
        **percentiles("first_post", first_posts(platform, mentioned, latency)),
        **percentiles("burst_first_post", first_posts(platform, mentioned, 0.0)),
    }


async def steady(
    port: int, rate: float, seconds: float, turns: int, latency: float, max_steps: int | None
) -> dict[str, Any]:
    count = int(rate * seconds)
    async with serving(port, turns, max_steps) as (_, platform):
        mentioned: dict[str, float] = {}
        start = time.monotonic()
        for i in range(count):
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            mentioned[f"s{i}"] = time.monotonic()
            await platform.mention(f"s{i}", f"write piece {i}")
        late = time.monotonic() - (start + (count - 1) / rate)  # how far the mentions fell behind
        await all_posted(platform, list(mentioned), turns + 1, within=900)
    return {
        "mentions": count,
        "mentions_late_s": late,
        **percentiles("first_post", first_posts(platform, mentioned, latency)),
    }


async def long_thread(port: int, steps: int) -> dict[str, Any]:
    costs: list[float] = []
    save: Callable[..., Any] = ThreadSession._save

    async def timed(session: ThreadSession, *args: Any, **kwargs: Any) -> None:
        began = time.perf_counter()
        await save(session, *args, **kwargs)
        costs.append(time.perf_counter() - began)

    async with serving(port, steps) as (_, platform):
        ThreadSession._save = timed  # type: ignore[method-assign,assignment]
        try:
            await platform.mention("long", "write a long piece")
            await all_posted(platform, ["long"], steps + 1, within=900)
        finally:
            ThreadSession._save = save  # type: ignore[method-assign,assignment]
    # costs[0] is the save of the mention (the people's message); costs[n] that of agent message n.
    return {"save_ms": [c * 1000 for c in costs]}


def main() -> None:
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["burst", "steady", "long"], nargs="?", default="burst")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--max-steps", type=int, default=None, help="THREADCREW_MAX_STEPS of the bot (steady)")
    args = parser.parse_args()
    if args.scenario == "burst":
        emit(asyncio.run(burst(args.port, args.threads, args.turns, args.latency)))
    elif args.scenario == "steady":
        emit(asyncio.run(steady(args.port, args.rate, args.seconds, args.turns, args.latency, args.max_steps)))
    else:
        emit(asyncio.run(long_thread(args.port, args.steps)))


if __name__ == "__main__":
    main()
