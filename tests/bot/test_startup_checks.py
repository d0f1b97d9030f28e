"""Bad settings and team files stop ``threadcrew`` at start, as a user runs it: one clear line on
stderr naming the setting and the fix, no traceback, exit code 1, and nothing said to be listening."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url

from tests.bot.crew import write_team
from tests.bot.test_cli import run_cli
from tests.conftest import require
from tests.storage.conftest import POSTGRES_URL, _postgres_problem

PASSWORD = "s3cret-pw-do-not-show"


def refused(done: subprocess.CompletedProcess[str]) -> str:
    """The one line ``done`` said on stderr (after checking it stopped as it must)."""
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "listening" not in done.stdout
    assert "Type to talk" not in done.stdout
    return lines[0]


@pytest.fixture
def team(tmp_path: Path) -> Path:
    return write_team(tmp_path / "crew.yaml", "http://127.0.0.1:9/v1")


@pytest.mark.parametrize(
    ("override", "said"),
    [
        (
            {"code_execution": {"timeout": -5}},
            "code_execution.timeout: -5 is out of range; use a number greater than 0",
        ),
        (
            {"models": {"default": {"model": "m", "temperature": 5}}},
            "models.default.temperature: 5 is out of range; use a number less than or equal to 2",
        ),
        (
            {"models": {"default": {"model": "m", "max_tokens": 0}}},
            "models.default.max_tokens: 0 is out of range; use a number greater than or equal to 1",
        ),
        ({"group_chat": {"max_round": 1}}, "group_chat.max_round: 1 is out of range"),
    ],
)
def test_numbers_out_of_range_fail_teams_validate_and_run(
    tmp_path: Path, override: dict[str, object], said: str
) -> None:
    bad = write_team(tmp_path / "bad.yaml", "http://127.0.0.1:9/v1", **override)
    line = refused(run_cli("teams", "validate", str(bad), cwd=tmp_path))
    assert line.startswith(f"error: {bad}: ")
    assert said in line
    started = run_cli("run", "--team", str(bad), cwd=tmp_path, env={"THREADCREW_DATA_DIR": str(tmp_path / "d")})
    assert said in refused(started)


def test_a_data_dir_that_cannot_be_a_directory_is_named(tmp_path: Path, team: Path) -> None:
    (tmp_path / "afile").write_text("in the way")
    data = tmp_path / "afile" / "data"
    line = refused(run_cli("run", "--team", str(team), cwd=tmp_path, env={"THREADCREW_DATA_DIR": str(data)}))
    assert line.startswith(f"error: THREADCREW_DATA_DIR ({data}) cannot be used: ")
    assert "set THREADCREW_DATA_DIR to a directory threadcrew can create and write" in line


def test_a_sqlite_path_whose_directory_cannot_be_made_is_named(tmp_path: Path, team: Path) -> None:
    (tmp_path / "afile").write_text("in the way")
    env = {"THREADCREW_DATA_DIR": str(tmp_path / "d"), "THREADCREW_DATABASE_URL": f"sqlite:///{tmp_path}/afile/x.db"}
    line = refused(run_cli("run", "--team", str(team), cwd=tmp_path, env=env))
    assert f"the SQLite database's directory {tmp_path / 'afile'} cannot be used: it is a file" in line
    assert "point THREADCREW_DATABASE_URL at a file in a directory threadcrew can create and write" in line


def test_a_postgresql_that_refuses_is_named_without_its_password(tmp_path: Path, team: Path) -> None:
    with socket.socket() as taken:  # a port nobody listens on: bound, never listening
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        url = f"postgresql://bot:{PASSWORD}@127.0.0.1:{port}/threadcrew"
        env = {"THREADCREW_DATA_DIR": str(tmp_path / "d"), "THREADCREW_DATABASE_URL": url}
        line = refused(run_cli("run", "--team", str(team), cwd=tmp_path, env=env))
    assert line.startswith(f"error: THREADCREW_DATABASE_URL (postgresql+asyncpg://bot:***@127.0.0.1:{port}/threadcrew)")
    assert "cannot connect: ConnectionRefusedError" in line
    assert "check that the server runs" in line
    assert PASSWORD not in line


def test_a_postgresql_database_that_does_not_exist_is_named(tmp_path: Path, team: Path) -> None:
    problem = _postgres_problem()
    require(problem is None, problem or "")
    url = make_url(POSTGRES_URL).set(database="threadcrew_no_such_db", password=PASSWORD)
    env = {"THREADCREW_DATA_DIR": str(tmp_path / "d"), "THREADCREW_DATABASE_URL": url.render_as_string(False)}
    line = refused(run_cli("run", "--team", str(team), cwd=tmp_path, env=env))
    assert 'InvalidCatalogNameError: database "threadcrew_no_such_db" does not exist' in line
    assert PASSWORD not in line


@pytest.fixture
def port_in_use() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_a_slack_http_port_in_use_is_named_before_anything_listens(
    tmp_path: Path, team: Path, port_in_use: int
) -> None:
    env = {
        "THREADCREW_DATA_DIR": str(tmp_path / "d"),
        "THREADCREW_SLACK_MODE": "http",
        "THREADCREW_SLACK_SIGNING_SECRET": "signing-secret",
        "THREADCREW_SLACK_BOT_TOKEN": "xoxb-1-2-3",
        "THREADCREW_HTTP_HOST": "127.0.0.1",
        "THREADCREW_HTTP_PORT": str(port_in_use),  # Slack's HTTP mode is served by the bot's web server
    }
    line = refused(run_cli("run", "--platform", "slack", "--team", str(team), cwd=tmp_path, env=env))
    assert line == (
        f"error: THREADCREW_HTTP_PORT: port {port_in_use} on 127.0.0.1 is in use (another threadcrew?); "
        "stop what uses it, or set THREADCREW_HTTP_PORT to a free port"
    )


def test_a_team_that_runs_code_in_docker_without_an_engine_is_named(tmp_path: Path) -> None:
    team = write_team(
        tmp_path / "docker.yaml", "http://127.0.0.1:9/v1", code_execution={"executor": "docker", "timeout": 30}
    )
    with socket.socket() as taken:  # nothing listens here: no engine
        taken.bind(("127.0.0.1", 0))
        host = f"tcp://127.0.0.1:{taken.getsockname()[1]}"
        env = {"THREADCREW_DATA_DIR": str(tmp_path / "d"), "DOCKER_HOST": host}
        line = refused(run_cli("run", "--team", str(team), cwd=tmp_path, env=env))
    expected = f"error: team 'crew': code_execution.executor is docker, but no Docker engine answers at {host} "
    assert line.startswith(expected)
    assert line.endswith("or set code_execution.executor: local")
