"""A full disk under the bot's SQLite database: Slack is told so (no 200), nothing claims the
mention was taken, and Slack's retry once space is back is handled exactly once.

The data dir is a small tmpfs mounted for the test (root only: CI runs as root).
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bot.crew import Crew
from tests.bot.test_slack import ROOT_TS, slack_bot
from tests.conftest import require
from tests.fakes.openai_server import ScriptedOpenAI
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import event_body

DISK = "8m"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path/data`` on a tmpfs of its own, unmounted afterwards whatever happened."""
    require(os.geteuid() == 0 and shutil.which("mount") is not None, "mounting a tmpfs needs root and mount(8)")
    data = tmp_path / "data"
    data.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(data)], check=True)
    try:
        yield data
    finally:
        subprocess.run(["umount", "-l", str(data)], check=True)


def fill(disk: Path) -> Path:
    """Write a file until ``disk`` has no space left; returns it (delete it to free the space)."""
    ballast = disk / "ballast"
    chunk = b"\0" * 65536
    with ballast.open("wb", buffering=0) as out:
        while True:
            try:
                out.write(chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                if len(chunk) == 1:
                    return ballast
                chunk = chunk[: len(chunk) // 2]  # fill the last bytes too


async def test_a_mention_on_a_full_disk_gets_an_error_and_slacks_retry_is_handled_once(
    small_disk: Path, tmp_path: Path
) -> None:
    model = Crew()
    body = event_body(
        {"type": "app_mention", "user": "UALICE", "text": "<@UBOT> chart the squares", "ts": ROOT_TS, "channel": "C1"}
    )
    one_agent = {
        "agents": [{"name": "planner", "system_message": "Planner. You plan the work."}],
        "group_chat": {"speaker_selection": "round_robin", "max_round": 4},
        "code_execution": {"executor": "none"},
    }
    with ScriptedOpenAI(responder=model) as server:
        async with FakeSlack() as slack, slack_bot(slack, server, tmp_path, **one_agent) as bot:
            ballast = fill(small_disk)
            status, _ = await bot.sender.event(body)
            assert status != 200, "Slack was told the mention was taken, on a full disk"
            assert bot.thread() == []  # nothing claims success in the thread either
            assert await bot.db.stores.conversations.find("slack", "T1", "C1", ROOT_TS) is None
            assert model.seen("planner") == 0

            ballast.unlink()
            assert (await bot.sender.event(body, retry=1))[0] == 200  # Slack tries again
            assert (await bot.sender.event(body, retry=2))[0] == 200  # ...and again, had it been slow
            await bot.until("planner on 'chart the squares'")
            assert bot.bot.dispatcher is not None
            await bot.bot.dispatcher.wait_idle()
            record = await bot.db.stores.conversations.find("slack", "T1", "C1", ROOT_TS)
            assert record is not None
            people = [m for m in await bot.db.stores.messages.list_since(record.id) if m.author_kind == "human"]
            pending = await bot.db.stores.events.pending("slack")
    assert [m.content for m in people] == ["chart the squares"]
    assert pending == []
    assert [username for username, _ in bot.said()].count("planner") == 1
    assert model.seen("planner") == 1
