"""threadcrew's Dockerfile, built for real on the Docker engine and run with no network.

The build is offline (see ``tests/deploy/build.py``). Every container is removed by its id,
and every image the build made is removed at the end; the base images stay.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from tests.conftest import require
from tests.deploy.build import built_image, docker, missing, python_of

BASE_IMAGE = os.environ.get("THREADCREW_TEST_BASE_IMAGE", "threadcrew-python-build:bookworm")
IMAGE_NAME = f"threadcrew-test-image-{os.getpid()}"  # one per test session: parallel runs never share

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

# Asks from inside the container; prints "STATUS BODY", or "refused REASON" when nothing answers.
PROBE = """
import sys, urllib.error, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=4) as response:
        print(response.status, response.read().decode())
except urllib.error.HTTPError as exc:
    print(exc.code, exc.read().decode())
except OSError as exc:
    print("refused", exc)
"""


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    problem = missing(BASE_IMAGE)
    require(problem is None, problem or "")
    here = "{}.{}".format(*sys.version_info[:2])
    there = python_of(BASE_IMAGE)
    require(there == here, f"{BASE_IMAGE} has Python {there}, this venv {here}: the host's wheels would not fit")
    with built_image(IMAGE_NAME, BASE_IMAGE) as tag:
        yield tag


def run_once(image: str, *args: str, entrypoint: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run a container to its end with no network; it is removed by id whatever happens."""
    options = ["--entrypoint", entrypoint] if entrypoint else []
    container = docker("create", "--network", "none", *options, image, *args).stdout.strip()
    try:
        return docker("start", "--attach", container, check=False, timeout=120)
    finally:
        docker("rm", "--force", "--volumes", container, check=False)  # and /data's anonymous volume


def eventually(check: Callable[[], str | None], what: str, timeout: float = 60) -> str:
    """Poll ``check`` until it returns a value; fail naming ``what`` if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.2)


class ConsoleContainer:
    """threadcrew on the console in a container whose stdin this test holds open (EOF ends it)."""

    def __init__(self, image: str, tmp: Path, docker_args: Sequence[str], command: Sequence[str]) -> None:
        self.cidfile = tmp / f"{id(self)}.cid"
        self.output = tmp / f"{id(self)}.out"
        run = ["docker", "run", "-i", "--network", "none", "--cidfile", str(self.cidfile), *docker_args]
        with self.output.open("wb") as output:  # the child keeps its own copy open
            self.process = subprocess.Popen(
                [*run, image, *command], stdin=subprocess.PIPE, stdout=output, stderr=subprocess.STDOUT
            )
        self.id = eventually(self._created, "the container to be created")

    def _created(self) -> str | None:
        text = self.cidfile.read_text().strip() if self.cidfile.exists() else ""
        return text or None

    def printed(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 60) -> None:
        """Wait until the console has printed ``text``."""
        eventually(lambda: "" if text in self.printed() else None, f"{text!r} in:\n{self.printed()}", timeout)

    def send(self, line: str) -> None:
        """Type a line into the console."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{line}\n".encode())
        self.process.stdin.flush()

    def exec(self, *command: str) -> subprocess.CompletedProcess[str]:
        return docker("exec", self.id, *command, check=False)

    def close_stdin(self) -> int:
        """Ctrl-D for the console: the bot ends its session; returns the container's exit code."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.process.wait(timeout=60)

    def remove(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process.stdin is not None:
            self.process.stdin.close()
        docker("rm", "--force", "--volumes", self.id, check=False)


CONSOLE = ("run", "--platform", "console")
READY = "End with Ctrl-D"  # the console's banner, printed once it serves


@pytest.fixture
def console(image: str, tmp_path: Path) -> Iterator[Callable[..., ConsoleContainer]]:
    started: list[ConsoleContainer] = []

    def start(*docker_args: str, command: Sequence[str] = CONSOLE) -> ConsoleContainer:
        started.append(ConsoleContainer(image, tmp_path, docker_args, command))
        return started[-1]

    yield start
    for container in started:
        container.remove()


@pytest.fixture
def detached(image: str) -> Iterator[Callable[..., str]]:
    """Start containers in the background (no network); each is removed by id at the end."""
    started: list[str] = []

    def start(*args: str) -> str:
        started.append(docker("run", "--detach", "--network", "none", *args).stdout.strip())
        return started[-1]

    yield start
    for container in started:
        docker("rm", "--force", "--volumes", container, check=False)


def health_of(container: str) -> str:
    """Docker's verdict on the container's HEALTHCHECK, once it has one."""

    def verdict() -> str | None:
        status = docker("inspect", "--format", "{{.State.Health.Status}}", container).stdout.strip()
        return status if status != "starting" else None

    return eventually(verdict, f"a health verdict on {container}")


@pytest.fixture
def volume() -> Iterator[str]:
    name = docker("volume", "create", "--label", "threadcrew.test=deploy").stdout.strip()
    yield name
    docker("volume", "rm", name)


def test_the_image_runs_threadcrew_as_a_non_root_user_with_a_data_volume(image: str) -> None:
    config = json.loads(docker("image", "inspect", "--format", "{{json .Config}}", image).stdout)
    assert config["Entrypoint"] == ["threadcrew"]
    assert config["Cmd"] == ["run"]
    assert config["User"] == "threadcrew"
    assert "/data" in config["Volumes"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["THREADCREW_DATA_DIR"] == "/data"
    assert env["THREADCREW_HEALTH"] == "true"
    assert env["THREADCREW_HTTP_HOST"] == "0.0.0.0"
    assert "/healthz" in " ".join(config["Healthcheck"]["Test"])

    ids = run_once(image, "-c", "id -u; id -g", entrypoint="sh")
    assert ids.returncode == 0, ids.stderr
    assert "0" not in ids.stdout.split()


def test_threadcrew_help_runs_with_no_network(image: str) -> None:
    result = run_once(image, "--help")

    assert result.returncode == 0, result.stderr
    for command in ("run", "teams", "db", "transcript"):
        assert command in result.stdout


def test_teams_validate_checks_the_example_team_inside_the_image(image: str) -> None:
    find = "import bot, pathlib; print(pathlib.Path(bot.__file__).with_name('demo_team.yaml'))"
    where = run_once(image, "-c", find, entrypoint="python3")
    team_file = where.stdout.strip()
    assert where.returncode == 0, where.stderr
    assert team_file.endswith("/bot/demo_team.yaml")

    valid = run_once(image, "teams", "validate", team_file)
    assert valid.returncode == 0, valid.stderr
    assert "team 'demo' is valid: agents planner, coder, reviewer" in valid.stdout

    wrong = run_once(image, "teams", "validate", "/data/no-such-team.yaml")
    assert wrong.returncode == 1
    assert "no-such-team.yaml" in wrong.stderr


def test_the_console_keeps_its_database_in_the_volume_and_ends_on_eof(
    volume: str,  # before console: the volume is removed after the container that uses it
    console: Callable[..., ConsoleContainer],
) -> None:
    bot = console("--volume", f"{volume}:/data")
    bot.wait_for(READY)

    # A new volume takes the image's /data, owner included: the non-root bot can write it.
    listed = bot.exec("ls", "-l", "/data")
    assert "threadcrew.db" in listed.stdout, listed.stdout + listed.stderr
    assert " threadcrew threadcrew " in listed.stdout

    assert bot.close_stdin() == 0, bot.printed()


def test_the_demo_in_a_container_without_a_sandbox_refuses_to_run_code_and_says_how_to_get_one(
    console: Callable[..., ConsoleContainer],
) -> None:
    # The image has no sandbox for code (no bubblewrap namespaces in a container, no Docker engine):
    # code never runs unsandboxed unless the team file says so, and the thread is told how to get one.
    bot = console(command=("demo",))
    bot.wait_for("no sandbox for it, so nothing was started")
    printed = bot.printed()
    assert "sandbox: docker" in printed
    assert "Ran the code" not in printed
    files = bot.exec("sh", "-c", "ls /data/demo/files 2>/dev/null | wc -l")
    assert files.stdout.strip() == "0", files.stderr
    assert bot.close_stdin() == 0


def test_migrations_ship_in_the_image(image: str) -> None:
    upgraded = run_once(image, "db", "upgrade")

    assert upgraded.returncode == 0, upgraded.stderr
    assert "migrated from an empty database to" in upgraded.stdout


def test_the_healthcheck_asks_healthz_on_the_configured_port(image: str, detached: Callable[..., str]) -> None:
    # A stand-in for threadcrew's web server: files served by http.server, /healthz among them.
    serve = "mkdir -p /tmp/www && echo ok > /tmp/www/healthz && exec python3 -m http.server --directory /tmp/www"
    often = ["--health-interval", "1s", "--health-start-period", "1ms", "--health-retries", "1"]
    often += ["--env", "THREADCREW_HTTP_PORT=3001"]
    answering = detached(*often, "--entrypoint", "sh", image, "-c", f"{serve} --bind 127.0.0.1 3001")
    elsewhere = detached(*often, "--entrypoint", "sh", image, "-c", f"{serve} --bind 127.0.0.1 3000")

    assert health_of(answering) == "healthy"
    assert health_of(elsewhere) == "unhealthy"


def test_healthz_answers_inside_the_container(console: Callable[..., ConsoleContainer]) -> None:
    bot = console("--health-interval", "1s", "--health-start-period", "60s")
    bot.wait_for(READY)

    def answer() -> str | None:
        probe = bot.exec("python3", "-c", PROBE, "http://127.0.0.1:3000/healthz")
        return None if probe.stdout.startswith("refused") else probe.stdout.strip()

    reply = eventually(answer, "GET /healthz", timeout=10)
    assert reply == "200 ok"
    assert health_of(bot.id) == "healthy"
