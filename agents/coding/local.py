"""Run code blocks as subprocesses in a work dir of their own.

Each block is written to a file in the work dir (or to the file its first line names:
``# filename: plot.py``, which must stay inside the work dir) and run with a scrubbed
environment: no API keys or tokens reach the code. A timeout kills the block's whole process
group, grandchildren included, and reports exit code 124. Output past the cap is cut in the
middle with a marker that says how much. Files the run created or changed come back.

The code's HOME and TMPDIR are ``.threadcrew/home`` and ``.threadcrew/tmp`` inside the work
dir (caches such as matplotlib's land there, and are not reported as files the code made).

When bubblewrap (``bwrap``) works on the machine, every block runs inside it: no network, the
system read-only, the work dir the only writable place, an unprivileged uid, and its own PID
namespace, so that a timeout takes down every process the code started. Without it, the
executor says once in the log that code runs unsandboxed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import mimetypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ._interpreter import absolute_interpreter, interpreter_trees
from ._shared import CappedOutput, declared_filename, generated_filename
from .base import CodeBlock, CodeFile, CodeResult
from .executor import CodeExecutorBase
from .func_with_reqs import FUNCTION_PROMPT_TEMPLATE, format_functions_for_prompt, write_functions_module

__all__ = ["LocalCommandLineCodeExecutor"]

_log = logging.getLogger(__name__)

_SAFE_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM")
PRIVATE_DIR = ".threadcrew"
_PIPE_GRACE = 2.0


class LocalCommandLineCodeExecutor(CodeExecutorBase):
    """A :class:`~agents.coding.base.CodeExecutor` on this machine, one work dir per conversation.

    Args:
        timeout: seconds a block may run.
        work_dir: where code runs and files appear; a fresh temporary dir when None
            (removed by :meth:`stop`).
        max_output: bytes of output kept per block; the middle of longer output is cut.
        max_file_bytes: files larger than this come back without their bytes.
        python: the interpreter for python blocks.
        sandbox: run under bubblewrap: True requires it, False never, None when it works here.
        functions: functions code blocks may import from ``functions_module`` (see
            :mod:`agents.coding.func_with_reqs`).
        functions_module: the name of that module, written into the work dir.

    Raises:
        ConfigurationError: ``sandbox=True`` on a machine where bubblewrap does not work.
    """

    def __init__(
        self,
        timeout: float = 60,
        work_dir: str | Path | None = None,
        *,
        max_output: int = 64 * 1024,
        max_file_bytes: int = 10 * 1024 * 1024,
        python: str = sys.executable,
        sandbox: bool | None = None,
        functions: Sequence[Any] = (),
        functions_module: str = "functions",
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds")
        self.timeout = timeout
        self._owns_dir = work_dir is None
        self.work_dir = Path(work_dir) if work_dir is not None else Path(tempfile.mkdtemp(prefix="threadcrew-code-"))
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._private = self.work_dir.resolve() / PRIVATE_DIR
        for sub_dir in ("home", "tmp"):
            (self._private / sub_dir).mkdir(parents=True, exist_ok=True)
        self.max_output = max_output
        self.max_file_bytes = max_file_bytes
        self.python = absolute_interpreter(python)
        if sandbox is None:
            sandbox = bubblewrap_works()
            if not sandbox:
                _warn_unsandboxed()
        elif sandbox and not bubblewrap_works():
            raise ConfigurationError(
                "sandbox=True needs bubblewrap, which is missing or cannot create namespaces here: "
                "install it (apt-get install bubblewrap) or pass sandbox=False"
            )
        self.sandboxed = sandbox
        self.functions = tuple(functions)
        self.functions_module = functions_module
        write_functions_module(self.work_dir, self.functions, functions_module)

    def format_functions_for_prompt(self, prompt_template: str = FUNCTION_PROMPT_TEMPLATE) -> str:
        """What to tell the model about ``functions`` (see :func:`.func_with_reqs.format_functions_for_prompt`)."""
        return format_functions_for_prompt(self.functions, self.functions_module, prompt_template)

    async def a_execute_code_blocks(self, code_blocks: list[CodeBlock]) -> CodeResult:
        """Run the blocks in order, stopping at the first that fails."""
        before = _snapshot(self.work_dir)
        outputs: list[str] = []
        exit_code = 0
        written: set[Path] = set()
        code_file = None
        for block in code_blocks:
            command, path_or_error = self._prepare(block)
            if command is None:
                outputs.append(path_or_error)
                exit_code = 1
                break
            written.add(Path(path_or_error))
            code_file = path_or_error
            exit_code, output = await self._run(command)
            outputs.append(output)
            if exit_code != 0:
                break
        files = self._changed_files(before, written)
        return CodeResult(exit_code=exit_code, output="\n".join(outputs), files=files, code_file=code_file)

    def _prepare(self, block: CodeBlock) -> tuple[list[str] | None, str]:
        if block.language == "python":
            interpreter, suffix = [self.python, "-u"], ".py"
        elif block.language == "sh":
            interpreter, suffix = ["sh"], ".sh"
        else:
            return None, f"unknown language {block.language!r}: only python and sh code blocks run here"
        name = declared_filename(block.code) or generated_filename(block.code, suffix)
        path = (self.work_dir / name).resolve()
        if not path.is_relative_to(self.work_dir.resolve()):
            return None, f"filename {name!r} is outside the work dir; use a path inside it"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block.code)
        return [*interpreter, str(path)], str(path)

    async def _run(self, command: list[str]) -> tuple[int, str]:
        env = {k: os.environ[k] for k in _SAFE_ENV if k in os.environ}
        env.update(
            HOME=str(self._private / "home"),
            TMPDIR=str(self._private / "tmp"),
            MPLBACKEND="Agg",
            PYTHONIOENCODING="utf-8",
        )
        if self.sandboxed:
            command = [*_bubblewrap_args(self.work_dir.resolve(), self.python), *command]
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
            if path in written or before.get(path) == stamp or path.is_relative_to(self._private):
                continue
            size = stamp[1]
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            data = path.read_bytes() if size <= self.max_file_bytes else None
            files.append(CodeFile(str(path.relative_to(self.work_dir.resolve())), mime, size, data))
        return tuple(files)

    async def a_restart(self) -> None:
        """Nothing survives between blocks here, so there is nothing to restart."""

    async def stop(self) -> None:
        """Remove the work dir when this executor created it."""
        if self._owns_dir:
            await asyncio.to_thread(shutil.rmtree, self.work_dir, True)


@functools.cache
def bubblewrap_works() -> bool:
    """Whether ``bwrap`` is installed and can build its namespaces here (checked once)."""
    if shutil.which("bwrap") is None:
        return False
    probe = subprocess.run(
        [*_bubblewrap_args(Path(tempfile.gettempdir()), "/bin/true"), "/bin/true"],
        capture_output=True,
        timeout=10,
        check=False,
    )
    if probe.returncode != 0:
        _log.info("bubblewrap is installed but does not work here: %s", probe.stderr.decode()[-300:])
    return probe.returncode == 0


@functools.cache
def _warn_unsandboxed() -> None:
    _log.warning(
        "bubblewrap is not available: code blocks run unsandboxed, with this process's user and network. "
        "Install bubblewrap (apt-get install bubblewrap) or use DockerCommandLineCodeExecutor."
    )


def _bubblewrap_args(work_dir: Path, python: str) -> list[str]:
    args = [
        "bwrap",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
    ]
    for top in ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    # The interpreter may live outside /usr (pyenv, a venv): its trees are visible, read-only.
    extra = {sys.prefix, sys.base_prefix, *interpreter_trees(python)}
    for tree in sorted(p for p in extra if p and not p.startswith(("/usr/", "/bin", "/lib")) and p != "/usr"):
        args += ["--ro-bind", tree, tree]
    # Last, the root (where bwrap made the mount points) turns read-only: nothing but the work
    # dir can be written.
    bind = ["--bind", str(work_dir), str(work_dir), "--remount-ro", "/", "--chdir", str(work_dir)]
    return [*args, *bind, "--uid", "65534", "--gid", "65534"]


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
    kept = CappedOutput(cap)
    while chunk := await stream.read(65536):
        kept.feed(chunk)
    return kept.text()
