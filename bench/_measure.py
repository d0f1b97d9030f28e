"""Helpers shared by the scenario scripts; standard library only (AG2's venv runs them too)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import resource
import statistics
import sys
import warnings
from collections.abc import Awaitable, Callable
from typing import Any


def rss_now_kb() -> int:
    """This process's resident set size now, in KiB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() // 1024


def rss_peak_kb() -> int:
    """This process's peak resident set size so far, in KiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def median(values: list[float]) -> float:
    return statistics.median(values)


def emit(result: dict[str, Any]) -> None:
    """Print the scenario's result as one JSON line on stdout (the harness reads the last line)."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def chat_main(
    turns: Callable[[int, int, int], Awaitable[dict[str, Any]]],
    concurrent: Callable[[int, int, int], Awaitable[dict[str, Any]]],
) -> None:
    """The command line of a framework's chat scenarios: ``turns`` or ``concurrent``."""
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["turns", "concurrent"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chats", type=int, default=200)
    args = parser.parse_args()
    if args.scenario == "turns":
        emit(asyncio.run(turns(args.port, args.turns, args.repeat)))
    else:
        emit(asyncio.run(concurrent(args.port, args.chats, args.turns)))


def groupchat_main(run: Callable[[int, int, str, int], Awaitable[dict[str, Any]]]) -> None:
    """The command line of a framework's group-chat scenario."""
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--method", default="round_robin")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    emit(asyncio.run(run(args.port, args.rounds, args.method, args.repeat)))
