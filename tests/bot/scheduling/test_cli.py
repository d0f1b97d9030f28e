"""``threadcrew schedules list|add|delete``, on the same rules as the chat command.

In process (typer's runner): a dozen subprocesses, each importing the whole bot, would take
most of a minute on a busy machine; ``tests/bot/test_cli.py`` runs the real command.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from tests.bot.crew import write_team
from tests.fakes.slack_api import BOT_TOKEN, SIGNING_SECRET, FakeSlack


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
    assert (again.returncode, again.stderr.splitlines()[-1]) == (
        1,
        "error: a schedule named 'digest' exists already: pick another name, or delete that one first",
    )
    # No Slack settings here: the channel could not be checked, and the command said so.
    assert again.stderr.startswith("warning: schedule digest: channel C1 not checked: the slack settings are not")

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


def slack_env(slack: FakeSlack, data: Path) -> dict[str, str]:
    """The settings of a bot on the fake Slack (its one workspace's bot token)."""
    return {
        "THREADCREW_DATA_DIR": str(data),
        "THREADCREW_SLACK_MODE": "http",
        "THREADCREW_SLACK_BOT_TOKEN": BOT_TOKEN,
        "THREADCREW_SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "THREADCREW_SLACK_API_URL": slack.api_url,
    }


async def test_a_channel_the_bot_is_not_in_is_refused_with_how_to_invite_it(tmp_path: Path) -> None:
    async with FakeSlack() as slack:  # it serves on this loop; the command runs in a thread of its own
        slack.not_member.add("C8")
        slack.channel_names["C8"] = "eng"
        env = slack_env(slack, tmp_path / "data")
        assert (await asyncio.to_thread(run_cli, "db", "upgrade", env=env, cwd=tmp_path)).returncode == 0
        options = ("schedules", "add", "digest", "hi", "--every", "6h")
        refused = await asyncio.to_thread(run_cli, *options, "--channel", "C8", env=env, cwd=tmp_path)
        assert (refused.returncode, refused.stderr.strip()) == (
            2,
            "error: schedule digest: I am not in #eng: invite me there with /invite @threadcrew (typed in #eng)",
        )
        added = await asyncio.to_thread(run_cli, *options, "--channel", "C1", env=env, cwd=tmp_path)
        assert added.returncode == 0, added.stderr
        assert added.stderr == ""
        # Without the platform's token nothing can be asked: added, with a warning that says why.
        unchecked = await asyncio.to_thread(
            run_cli, "schedules", "add", "later", "hi", "--every", "6h", "--platform", "discord", "--channel", "9",
            env=env, cwd=tmp_path,
        )  # fmt: skip
        assert unchecked.returncode == 0
        assert (
            "warning: schedule later: channel 9 not checked: the discord settings are not complete" in unchecked.stderr
        )
        listed = await asyncio.to_thread(run_cli, "schedules", "list", env=env, cwd=tmp_path)
        assert [line.split(" ")[0] for line in listed.stdout.splitlines()] == ["digest", "later"]
        assert [c.params["channel"] for c in slack.calls_of("conversations.info")] == ["C8", "C1"]


async def test_teams_validate_checks_the_schedules_channels_only_when_asked(tmp_path: Path) -> None:
    schedule = {"every": "6h", "platform": "slack", "channel": "C8", "message": "What changed?"}
    team = write_team(tmp_path / "crew.yaml", "http://127.0.0.1:9/v1", schedules=[schedule])
    async with FakeSlack() as slack:
        slack.not_member.add("C8")
        env = slack_env(slack, tmp_path / "data")
        offline = await asyncio.to_thread(run_cli, "teams", "validate", str(team), env=env, cwd=tmp_path)
        assert offline.returncode == 0, offline.stderr
        assert offline.stdout.rstrip().endswith("; 1 schedule(s), their channels not checked (--online checks them)")
        assert slack.calls == []  # offline: no network
        online = await asyncio.to_thread(run_cli, "teams", "validate", str(team), "--online", env=env, cwd=tmp_path)
        assert (online.returncode, online.stderr.strip()) == (
            2,
            f"error: {team}: schedule crew-1: I am not in #c8: invite me there with /invite @threadcrew (typed in #c8)",
        )
        slack.not_member.clear()
        fixed = await asyncio.to_thread(run_cli, "teams", "validate", str(team), "--online", env=env, cwd=tmp_path)
        assert fixed.returncode == 0, fixed.stderr
        assert fixed.stdout.rstrip().endswith("; 1 schedule(s), their channels checked")
