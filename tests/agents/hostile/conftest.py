"""The fake bot every hostile test attacks, and the promise that the host is left as found."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.coding.limits import ResourceLimits

from .attacks import Bot, host_state, secret_env

# Small quotas, so that the bombs hit them quickly.
LIMITS = ResourceLimits(
    processes=64,
    memory_bytes=512 * 1024 * 1024,
    file_bytes=16 * 1024 * 1024,
    work_dir_bytes=32 * 1024 * 1024,
    work_dir_files=2000,
)


@pytest.fixture
def bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    """Fake secrets in this process's environment, a fake database and another thread's files on disk."""
    for key, value in secret_env().items():
        monkeypatch.setenv(key, value)
    made = Bot.make(tmp_path / "data")
    before = host_state(made)
    yield made
    assert host_state(made) == before, "an attack changed the host"


def lock_is_free(path: Path) -> bool:
    """Whether nobody holds an exclusive lock on ``path`` (a process that held it is gone)."""
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True
