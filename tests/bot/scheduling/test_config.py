"""The team file's schedules and timeouts: checked at start-up, errors that name file, key and fix;
the file's schedules become rows that follow the file."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.errors import TeamConfigError
from bot.scheduling import TimeoutsSpec
from bot.team_config import load_team_config
from bot.teams import TeamCatalog
from storage import Database
from tests.bot.scheduling.conftest import FakeClock

STANDUP = {"cron": "0 9 * * 1-5", "timezone": "Europe/Paris", "platform": "slack", "channel": "C123", "message": "Hi"}


def team_file(tmp_path: Path, **extra: Any) -> Path:
    config = {
        "name": "crew",
        "models": {"default": {"scripted": "demo"}},
        "agents": [{"name": "planner"}],
        "code_execution": {"executor": "none"},
        **extra,
    }
    path = tmp_path / "crew.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def test_schedules_and_timeouts_load_with_the_team(tmp_path: Path) -> None:
    catalog = TeamCatalog()
    catalog.add_file(
        team_file(
            tmp_path,
            schedules=[
                STANDUP,
                {"name": "digest", "every": "6h", "platform": "slack", "channel": "C9", "message": "?"},
            ],
            timeouts={"question": {"after": "30m", "then": "stop", "remind": True}},
        )
    )
    [standup, digest] = catalog.file_schedules()["crew"]
    assert (standup.name, standup.cron, standup.timezone, standup.channel_id) == (
        "crew-1",
        "0 9 * * 1-5",
        "Europe/Paris",
        "C123",
    )
    assert (digest.name, digest.every_seconds, digest.cron) == ("digest", 21600, None)
    timeouts = catalog.timeouts("crew")
    assert timeouts.question is not None
    assert (timeouts.question.after, timeouts.question.then, timeouts.question.remind) == (1800, "stop", True)
    assert catalog.timeouts("another") == TimeoutsSpec()


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"cron": "0 9 * *"}, "schedules[0].cron: '0 9 * *' is not a cron expression: write five fields"),
        ({"timezone": "Paris"}, "schedules[0].timezone: unknown time zone 'Paris': use an IANA name such as"),
        ({"platform": "slak"}, "schedules[0].platform: unknown platform 'slak': use one of slack, discord"),
        ({"every": "30m"}, "schedules[0]: give either a cron expression"),
        ({"cron": None}, "schedules[0]: give either a cron expression"),
        ({"channel": None}, "schedules[0].channel: "),
        ({"colour": "red"}, "schedules[0].colour: is not a setting here"),
    ],
)
def test_a_bad_schedule_names_the_file_the_key_and_the_fix(
    tmp_path: Path, entry: dict[str, Any], expected: str
) -> None:
    schedule = {k: v for k, v in {**STANDUP, **entry}.items() if v is not None}
    with pytest.raises(TeamConfigError) as caught:
        load_team_config(team_file(tmp_path, schedules=[schedule]))
    assert f"{tmp_path / 'crew.yaml'}: {expected}" in str(caught.value)


def test_two_schedules_of_one_name_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TeamConfigError, match=r"schedules\[1\] \(x\)\.name: another schedule is named 'x'"):
        load_team_config(team_file(tmp_path, schedules=[{**STANDUP, "name": "x"}, {**STANDUP, "name": "x"}]))


def test_a_bad_timeout_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(TeamConfigError, match=r"timeouts\.approval\.then: Input should be 'deny' or 'stop'"):
        load_team_config(team_file(tmp_path, timeouts={"approval": {"after": "1h", "then": "continue"}}))
    with pytest.raises(TeamConfigError, match=r"timeouts\.question\.after: .*'soon' is not a duration"):
        load_team_config(team_file(tmp_path, timeouts={"question": {"after": "soon"}}))


async def test_the_file_schedules_replace_the_files_rows_and_keep_their_last_fire(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    stores = db.stores.schedules
    await stores.add(
        "by-hand", team="crew", platform="slack", workspace_id="", channel_id="C1", cron="0 8 * * *", message="?"
    )

    def wanted(*entries: dict[str, Any]) -> list[Any]:
        catalog = TeamCatalog()
        catalog.add_file(team_file(tmp_path, schedules=list(entries)))
        return catalog.file_schedules()["crew"]

    await stores.replace_file_schedules("crew", wanted(STANDUP, {**STANDUP, "name": "b"}))
    await stores.claim_fire((await stores.get("crew-1")).id, clock.now)
    # A restart with the same file keeps crew-1's last fire; a changed entry starts afresh; a dropped one goes.
    await stores.replace_file_schedules("crew", wanted(STANDUP, {**STANDUP, "name": "c", "cron": "0 10 * * *"}))
    rows = {s.name: s for s in await stores.list()}
    assert sorted(rows) == ["by-hand", "c", "crew-1"]
    assert rows["crew-1"].last_run_at == clock.now
    assert (rows["c"].source, rows["by-hand"].source) == ("file", "chat")
    # A pause made in chat holds over a restart; processes starting together write the same rows.
    await stores.set_enabled("crew-1", False)
    same = wanted(STANDUP, {**STANDUP, "name": "c", "cron": "0 10 * * *"})
    await asyncio.gather(*(stores.replace_file_schedules("crew", same) for _ in range(3)))
    again = {s.name: s for s in await stores.list()}
    assert again == {**rows, "crew-1": dataclasses.replace(rows["crew-1"], enabled=False)}
