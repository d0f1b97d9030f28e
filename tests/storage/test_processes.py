"""Real parallel writers: two processes on one database, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys

from storage import Database

WORKER = [sys.executable, "-m", "tests.storage.worker"]


def run_together(*commands: list[str]) -> list[list[int]]:
    """Start every command at once, then collect each one's JSON result."""
    procs = [
        subprocess.Popen([*WORKER, *c], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in commands
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


async def test_two_processes_appending_to_one_conversation_get_every_number_once(database_url: str) -> None:
    async with Database(database_url) as db:
        cid = (await db.stores.conversations.get_or_create("slack", "T1", "C1", "t", team="dev")).id
    a, b = run_together(["append", database_url, str(cid), "150", "a"], ["append", database_url, str(cid), "150", "b"])
    assert sorted(a + b) == list(range(1, 301))
    async with Database(database_url) as db:
        stored = await db.stores.messages.list_since(cid)
    assert [m.seq for m in stored] == list(range(1, 301))
    assert sum((m.content or "").startswith("a-") for m in stored) == 150


async def test_two_processes_claiming_the_same_events_win_each_exactly_once(database_url: str) -> None:
    a, b = run_together(["claim", database_url, "300"], ["claim", database_url, "300"])
    assert set(a).isdisjoint(b)
    assert sorted(a + b) == list(range(300))
