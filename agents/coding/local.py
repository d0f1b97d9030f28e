"""Run code blocks as subprocesses in a work dir of their own.

Each block is written to a file in the work dir (or to the file its first line names:
``# filename: plot.py``, which must stay inside the work dir) and run with a scrubbed
environment: no API keys or tokens reach the code. A timeout kills the block's whole process
group, grandchildren included, and reports exit code 124. Output past the cap is cut in the
middle with a marker that says how much. Files the run created or changed come back.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import mimetypes
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from .base import CodeBlock, CodeFile, CodeResult

__all__ = ["LocalCommandLineCodeExecutor"]

_log = logging.getLogger(__name__)

_SAFE_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM")
_FILENAME_PREFIXES = ("# filename:", "# filename ", "// filename:")
_PIPE_GRACE = 2.0


class LocalCommandLineCodeExecutor:
    """A :class:`~agents.coding.base.CodeExecutor` on this machine, one work dir per conversation.

    Args:
        timeout: seconds a block may run.
        work_dir: where code runs and files appear; a fresh temporary dir when None
            (removed by :meth:`stop`).
        max_output: bytes of output kept per block; the middle of longer output is cut.
        max_file_bytes: files larger than this come back without their bytes.
        python: the interpreter for python blocks.
    """

    def __init__(
        self,
        timeout: float = 60,
        work_dir: str | Path | None = None,
        *,
        max_output: int = 64 * 1024,
        max_file_bytes: int = 10 * 1024 * 1024,
        python: str = sys.executable,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds")
        self.timeout = timeout
        self._owns_dir = work_dir is None
        self.work_dir = Path(work_dir) if work_dir is not None else Path(tempfile.mkdtemp(prefix="threadcrew-code-"))
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.max_output = max_output
        self.max_file_bytes = max_file_bytes
        self.python = python

    async def execute_code_blocks(self, code_blocks: list[CodeBlock]) -> CodeResult:
        """Run the blocks in order, stopping at the first that fails."""
        before = _snapshot(self.work_dir)
        outputs: list[str] = []
        exit_code = 0
        written: set[Path] = set()
        for block in code_blocks:
            command, path_or_error = self._prepare(block)
            if command is None:
                outputs.append(path_or_error)
                exit_code = 1
                break
            written.add(Path(path_or_error))
            exit_code, output = await self._run(command)
            outputs.append(output)
            if exit_code != 0:
                break
        files = self._changed_files(before, written)
        return CodeResult(exit_code=exit_code, output="\n".join(outputs), files=files)

    def _prepare(self, block: CodeBlock) -> tuple[list[str] | None, str]:
        if block.language == "python":
            interpreter, suffix = [self.python, "-u"], ".py"
        elif block.language == "sh":
            interpreter, suffix = ["sh"], ".sh"
        else:
            return None, f"unknown language {block.language!r}: only python and sh code blocks run here"
        name = _declared_filename(block.code)
        if name is None:
            name = f"tmp_code_{hashlib.sha256(block.code.encode()).hexdigest()[:16]}{suffix}"
        path = (self.work_dir / name).resolve()
        if not path.is_relative_to(self.work_dir.resolve()):
            return None, f"filename {name!r} is outside the work dir; use a path inside it"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block.code)
        return [*interpreter, str(path)], str(path)

    async def _run(self, command: list[str]) -> tuple[int, str]:
        env = {k: os.environ[k] for k in _SAFE_ENV if k in os.environ}
        env.update(HOME=str(self.work_dir), MPLBACKEND="Agg", PYTHONIOENCODING="utf-8")
        proc = await asyncio.create_subprocess_exec(
            *command,
            cwd=self.work_dir,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        assert proc.stdout is not None
        capture = asyncio.ensure_future(_capped_read(proc.stdout, self.max_output))
        timed_out = False
        try:
            await asyncio.wait_for(proc.wait(), self.timeout)
        except TimeoutError:
            timed_out = True
        finally:
            _kill_group(proc.pid)  # on timeout, and anything the code left running in the background
        returncode = await proc.wait()
        try:
            # A process that left the group may still hold the pipe open: do not wait for it.
            output = await asyncio.wait_for(capture, _PIPE_GRACE)
        except TimeoutError:
            output = "(output incomplete: a background process kept the output open)"
        if timed_out:
            return 124, f"{output}\nTimeout: the code ran longer than {self.timeout:g} s and was stopped."
        return (128 - returncode if returncode < 0 else returncode), output

    def _changed_files(self, before: dict[Path, tuple[int, int]], written: set[Path]) -> tuple[CodeFile, ...]:
        files = []
        for path, stamp in sorted(_snapshot(self.work_dir).items()):
            if path in written or before.get(path) == stamp:
                continue
            size = stamp[1]
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            data = path.read_bytes() if size <= self.max_file_bytes else None
            files.append(CodeFile(str(path.relative_to(self.work_dir.resolve())), mime, size, data))
        return tuple(files)

    async def restart(self) -> None:
        """Nothing survives between blocks here, so there is nothing to restart."""

    async def stop(self) -> None:
        """Remove the work dir when this executor created it."""
        if self._owns_dir:
            await asyncio.to_thread(shutil.rmtree, self.work_dir, True)


def _declared_filename(code: str) -> str | None:
    first = code.lstrip().split("\n", 1)[0].strip()
    for prefix in _FILENAME_PREFIXES:
        if first.startswith(prefix):
            return first[len(prefix) :].strip() or None
    return None


def _snapshot(root: Path) -> dict[Path, tuple[int, int]]:
    out = {}
    for path in root.resolve().rglob("*"):
        with contextlib.suppress(OSError):
            if path.is_file() and not path.is_symlink():
                st = path.stat()
                out[path] = (st.st_mtime_ns, st.st_size)
    return out


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def _capped_read(stream: asyncio.StreamReader, cap: int) -> str:
    head = bytearray()
    tail = bytearray()
    cut = 0
    half = cap // 2
    while chunk := await stream.read(65536):
        room = half - len(head)
        if room > 0:
            head += chunk[:room]
            chunk = chunk[room:]
        tail += chunk
        if len(tail) > cap - half:
            excess = len(tail) - (cap - half)
            cut += excess
            del tail[:excess]
    text = head.decode(errors="replace")
    if cut:
        text += f"\n... {cut} bytes cut ...\n"
    return text + tail.decode(errors="replace")
