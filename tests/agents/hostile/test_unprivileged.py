"""The same attacks through the local sandbox when the bot runs as an unprivileged user (nobody)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.coding.bubblewrap import bubblewrap_problem
from tests.conftest import require

from .attacks import ALL, Bot, check, host_state, secret_env
from .conftest import lock_is_free

NOBODY = 65534
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def nobodys_bot() -> Iterator[Bot]:
    """A bot data dir that nobody owns, under a temp dir nobody can reach (pytest's own is root's only)."""
    require(os.geteuid() == 0, "this test switches from root to nobody: run the suite as root (CI does)")
    require(shutil.which("setpriv") is not None, "setpriv (util-linux) is missing")
    require(bubblewrap_problem() is None, f"no local sandbox here: {bubblewrap_problem()}")
    top = Path(tempfile.mkdtemp(prefix="threadcrew-hostile-"))
    try:
        top.chmod(0o755)
        bot = Bot.make(top / "data")
        for path in [top, *top.rglob("*")]:
            os.chown(path, NOBODY, NOBODY)
        before = host_state(bot)
        yield bot
        assert host_state(bot) == before, "an attack changed the host"
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _interpreter() -> list[str]:
    """A Python that nobody may run, with this checkout and its packages on the path."""
    for candidate in (sys.executable, "/usr/bin/python3"):
        probe = subprocess.run(
            ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", candidate, "-c", "import sys"],
            capture_output=True,
            check=False,
        )
        if probe.returncode == 0:
            return [candidate]
    require(False, "no Python interpreter here that an unprivileged user may run")
    raise AssertionError("unreachable: require() skips or fails")


def test_every_attack_fails_as_nobody(nobodys_bot: Bot) -> None:
    site = [p for p in sys.path if p.endswith("site-packages")]
    env = {
        **secret_env(),
        "PATH": "/usr/bin:/bin",
        "HOME": str(nobodys_bot.data_dir.parent),
        "PYTHONPATH": os.pathsep.join([str(ROOT), *site]),
    }
    command = [
        "setpriv",
        f"--reuid={NOBODY}",
        f"--regid={NOBODY}",
        "--clear-groups",
        *_interpreter(),
        "-m",
        "tests.agents.hostile.run_unprivileged",
        json.dumps(nobodys_bot.as_json()),
        *ALL,
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    for name in ALL:
        result = results[name]
        files = [(n, s, d.encode("latin-1") if d is not None else None) for n, s, d in result["files"]]
        check(name, nobodys_bot, result["exit_code"], result["output"], files)
    assert lock_is_free(nobodys_bot.work_dir / "held.lock"), "a process the code detached still runs"
