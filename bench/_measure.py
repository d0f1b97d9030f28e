"""Helpers shared by the scenario scripts; standard library only (AG2's venv runs them too)."""

from __future__ import annotations

import json
import resource
import statistics
import sys
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
