#!/usr/bin/env python3
"""threadcrew's developer commands, on nothing but Python 3.11+.

    python3 scripts/dev.py run     [args...]  # the bot on embedded defaults (threadcrew run ...)
    python3 scripts/dev.py test    [pytest args...]  # ruff, mypy, import-linter, pytest
    python3 scripts/dev.py bench   [args...]  # the benchmarks under bench/

Each creates ./.venv on first use and (re)installs the project into it whenever
pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("THREADCREW_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_venv(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script must explain itself on an old Python
        sys.exit(f"threadcrew needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print(f"creating {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"installing threadcrew{f'[{extras}]' if extras else ''} into {VENV} ...", flush=True)
    target = f".[{extras}]" if extras else "."
    subprocess.run(
        [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", target],
        cwd=ROOT,
        check=True,
    )
    stamp.write_text(digest)


def run(*command: str) -> None:
    print("$", " ".join(command), flush=True)
    result = subprocess.run([str(BIN / command[0]), *command[1:]], cwd=ROOT, check=False)
    if result.returncode != 0:
        sys.exit(result.returncode)


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in ("run", "test", "bench"):
        sys.exit(__doc__)
    command, rest = argv[0], argv[1:]
    if command == "run":
        ensure_venv("")
        os.execv(str(BIN / "threadcrew"), [str(BIN / "threadcrew"), "run", *rest])
    ensure_venv("dev")
    if command == "test":
        run("ruff", "check", ".")
        run("ruff", "format", "--check", ".")
        run("mypy")
        run("lint-imports")
        run("python", "-m", "pytest", *rest)
    else:
        run("python", "-m", "bench", *rest)


if __name__ == "__main__":
    main(sys.argv[1:])
