"""``threadcrew schedules list|add|delete``, on the same rules as the chat command.

In process (typer's runner): a dozen subprocesses, each importing the whole bot, would take
most of a minute on a busy machine; ``tests/bot/test_cli.py`` runs the real command.
"""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app


class Ran:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> Ran:
    """The command with only ``env``'s threadcrew and model settings (None unsets the others)."""
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith(("OPENAI_", "THREADCREW_"))}
    result = CliRunner().invoke(app, list(args), env={**unset, **env})
    return Ran(result.exit_code, result.stdout, result.stderr)


def test_schedules_are_added_listed_and_deleted_on_the_command_line(tmp_path: Path) -> None:
    env = {"THREADCREW_DATA_DIR": str(tmp_path / "data")}
    assert run_cli("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    added = run_cli(
        "schedules", "add", "standup", "Summarise yesterday",
        "--cron", "0 9 * * 1-5", "--timezone", "Europe/Paris", "--channel", "C123",
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("added standup (on): 0 9 * * 1-5 (Europe/Paris), team demo, in slack C123, next ")
    assert (
        run_cli(
            "schedules", "add", "digest", "What changed?", "--every", "6h", "--channel", "C9", env=env, cwd=tmp_path
        ).returncode
        == 0
    )

    listed = run_cli("schedules", "list", env=env, cwd=tmp_path)
    assert [line.split(" ")[0] for line in listed.stdout.splitlines()] == ["digest", "standup"]
    assert "digest (on): every 6h, team demo, in slack C9" in listed.stdout

    refusals = {
        ("--cron", "0 9 * *"): "is not a cron expression: write five fields",
        ("--cron", "0 9 * * *", "--timezone", "Paris"): "unknown time zone 'Paris'",
        ("--every", "6h", "--platform", "slak"): "unknown platform 'slak': use one of slack, discord",
        ("--every", "6h", "--team", "nobody"): "no team named 'nobody'; known teams: demo",
        ("--every", "6h"): "name the channel",
    }
    for options, expected in refusals.items():
        channel = () if options == ("--every", "6h") else ("--channel", "C1")
        refused = run_cli("schedules", "add", "x", "hi", *options, *channel, env=env, cwd=tmp_path)
        assert refused.returncode == 2, refused.stdout
        assert expected in refused.stderr
    again = run_cli("schedules", "add", "digest", "hi", "--every", "1h", "--channel", "C1", env=env, cwd=tmp_path)
    assert (again.returncode, again.stderr.strip()) == (
        1,
        "error: a schedule named 'digest' exists already: pick another name, or delete that one first",
    )

    assert run_cli("schedules", "pause", "digest", env=env, cwd=tmp_path).stdout == "Paused the schedule digest.\n"
    assert "digest (paused)" in run_cli("schedules", "list", env=env, cwd=tmp_path).stdout
    assert run_cli("schedules", "resume", "digest", env=env, cwd=tmp_path).stdout == "Resumed the schedule digest.\n"
    assert run_cli("schedules", "delete", "digest", env=env, cwd=tmp_path).stdout == "Deleted the schedule digest.\n"
    gone = run_cli("schedules", "delete", "digest", env=env, cwd=tmp_path)
    assert (gone.returncode, gone.stderr.strip()) == (
        1,
        "error: there is no schedule named 'digest'; `schedule list` shows them",
    )
    assert run_cli("schedules", "list", env=env, cwd=tmp_path).stdout.splitlines()[0].startswith("standup (on)")
