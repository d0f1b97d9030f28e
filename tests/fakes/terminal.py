"""A command run as a person runs it in a terminal: type a line when the expected output shows."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
THREADCREW = [sys.executable, "-c", "from bot.cli import main; main()"]


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without model settings (the demo must not find a real key), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "THREADCREW_"))}
    # The tests' own tools (tests.bot.crew:word_count) are importable wherever the command runs.
    path = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return {**env, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path, **(extra or {})}


class Terminal:
    """A running command: :meth:`expect` reads its output until a text shows, :meth:`type` sends a line."""

    def __init__(self, args: Sequence[str], *, env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [*THREADCREW, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=cwd,
        )
        self.output = ""
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        self._stderr.extend(self.process.stderr)

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def expect(self, text: str, within: float = 30) -> str:
        """Read output until ``text`` appears in it (counting from the last expect); returns all so far."""
        start = len(self.output)
        while text not in self.output[start:]:
            try:
                line = self._lines.get(timeout=within)
            except queue.Empty:
                raise AssertionError(f"{text!r} did not show within {within} s; output:\n{self.output}") from None
            if line is None:
                self.process.wait(10)
                raise AssertionError(
                    f"the command ended before {text!r} showed; output:\n{self.output}\nstderr:\n{self.stderr}"
                )
            self.output += line
        return self.output

    def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def end_input(self, within: float = 30) -> int:
        """Close the input (Ctrl-D) and wait for the command to end; returns its exit code."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.ended(within)

    def ended(self, within: float = 30) -> int:
        """Wait for the command to end and read the rest of its output; returns its exit code."""
        code = self.process.wait(within)
        while (line := self._lines.get(timeout=10)) is not None:
            self.output += line
        return code

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.kill()
        for reader in self._readers:
            reader.join(10)
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            if pipe is not None and not pipe.closed:
                pipe.close()
