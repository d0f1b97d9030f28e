"""Run code blocks as processes on this machine, in a work dir of their own, sandboxed.

Each block is written to a file in the work dir (or to the file its first line names:
``# filename: plot.py``, which must stay inside the work dir) and run with a scrubbed
environment: no API keys or tokens reach the code. Output past the cap is cut in the middle
with a marker that says how much. Files the run created or changed come back, within
:class:`~agents.coding.limits.FileCaps`, with a note about what was left out.

Where code runs is the ``sandbox`` setting, and it fails closed:

- ``"bubblewrap"`` (or True): in the sandbox of :mod:`agents.coding.bubblewrap`; an error
  at construction when it does not work here.
- ``"auto"`` (or None, the default): the same when it works; when it does not, the executor
  warns once and refuses every run with :class:`~agents.errors.CodeExecutionError`, whose
  message says how to get a sandbox. Nothing runs unsandboxed by default.
- ``"none"`` (or False): no sandbox, as this process's user, said in so many words. The
  quotas still apply, and a reaper kills whatever the code started, detached or not.

Every run gets the kernel's resource limits of :class:`~agents.coding.limits.ResourceLimits`
(processes, memory, CPU seconds, file size, open files, no core files) and a watch on the work
dir's size and number of entries. At the timeout (exit code 124) every process the code
started is killed, and the executor returns within the timeout plus a few seconds.

The code's HOME and TMPDIR are ``.threadcrew/home`` and ``.threadcrew/tmp`` inside the work
dir (caches such as matplotlib's land there, and are not reported as files the code made).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import shutil
import sys
import tempfile
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from ..errors import CodeExecutionError, ConfigurationError
from . import _reaper
from ._files import Stamp, dir_stamps, dir_usage, gather_dir
from ._interpreter import absolute_interpreter
from ._process import Finished, run_to_deadline
from ._shared import declared_filename, generated_filename
from .base import CodeBlock, CodeResult
from .bubblewrap import HOW_TO_GET_ONE, bubblewrap_problem, bubblewrap_works, hand_over, sandbox_command
from .executor import CodeExecutorBase
from .func_with_reqs import FUNCTION_PROMPT_TEMPLATE, format_functions_for_prompt, write_functions_module
from .limits import FileCaps, ResourceLimits

__all__ = ["LocalCommandLineCodeExecutor", "SandboxMode", "bubblewrap_works"]

_log = logging.getLogger(__name__)

SandboxMode = Literal["auto", "bubblewrap", "none"]
_SAFE_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM")
_MODES: dict[object, SandboxMode] = {
    None: "auto",
    True: "bubblewrap",
    False: "none",
    "auto": "auto",
    "bubblewrap": "bubblewrap",
    "none": "none",
}
PRIVATE_DIR = ".threadcrew"


class LocalCommandLineCodeExecutor(CodeExecutorBase):
    """A :class:`~agents.coding.base.CodeExecutor` on this machine, one work dir per conversation.

    Args:
        timeout: seconds a block may run.
        work_dir: where code runs and files appear; a fresh temporary dir when None
            (removed by :meth:`stop`).
        max_output: bytes of output kept per block; the middle of longer output is cut.
        max_file_bytes: files larger than this come back without their bytes.
        python: the interpreter for python blocks.
        sandbox: ``"auto"``/None, ``"bubblewrap"``/True or ``"none"``/False (see the module's docs).
        limits: quotas for each block.
        max_files: files per run that come back; the rest are named in a note.
        max_total_bytes: bytes of all files of a run that come back together.
        functions: functions code blocks may import from ``functions_module`` (see
            :mod:`agents.coding.func_with_reqs`).
        functions_module: the name of that module, written into the work dir.

    Raises:
        ConfigurationError: ``sandbox="bubblewrap"`` on a machine where bubblewrap does not work,
            or a ``sandbox`` value that is none of the above.
    """

    def __init__(
        self,
        timeout: float = 60,
        work_dir: str | Path | None = None,
        *,
        max_output: int = 64 * 1024,
        max_file_bytes: int = 10 * 1024 * 1024,
        python: str = sys.executable,
        sandbox: bool | str | None = None,
        limits: ResourceLimits | None = None,
        max_files: int = 20,
        max_total_bytes: int = 50 * 1024 * 1024,
        functions: Sequence[Any] = (),
        functions_module: str = "functions",
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds")
        if sandbox not in _MODES:
            raise ConfigurationError(f"sandbox={sandbox!r} is not one of 'auto', 'bubblewrap', 'none'")
        self.timeout = timeout
        self._owns_dir = work_dir is None
        self.work_dir = Path(work_dir) if work_dir is not None else Path(tempfile.mkdtemp(prefix="threadcrew-code-"))
        self.work_dir.mkdir(parents=True, exist_ok=True)
        if self._owns_dir:  # removed by stop(), or when the executor is collected or the process exits
            self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.work_dir), True)
        self._root = self.work_dir.resolve()
        self._private = self._root / PRIVATE_DIR
        for sub_dir in ("home", "tmp"):
            (self._private / sub_dir).mkdir(parents=True, exist_ok=True)
        self.max_output = max_output
        self.max_file_bytes = max_file_bytes
        self.max_files = max_files
        self.max_total_bytes = max_total_bytes
        self.python = absolute_interpreter(python)
        self.limits = limits or ResourceLimits()
        self.sandbox: SandboxMode = _MODES[sandbox]
        self.refusal: str | None = None
        works = self.sandbox != "none" and bubblewrap_works()
        if self.sandbox == "bubblewrap" and not works:
            raise ConfigurationError(
                "sandbox=True needs bubblewrap, which is missing or cannot create namespaces here: "
                f"{HOW_TO_GET_ONE}; or say sandbox='none' to run code unsandboxed"
            )
        if self.sandbox == "auto" and not works:
            _warn_unsandboxed()
            why = bubblewrap_problem() or "bubblewrap fails"
            self.refusal = (
                f"code was not run: there is no sandbox on this machine ({why}). "
                f"To get one, {HOW_TO_GET_ONE}. To run code without one, say so: sandbox: none"
            )
        self.sandboxed = works
        self.functions = tuple(functions)
        self.functions_module = functions_module
        write_functions_module(self.work_dir, self.functions, functions_module)

    def format_functions_for_prompt(self, prompt_template: str = FUNCTION_PROMPT_TEMPLATE) -> str:
        """What to tell the model about ``functions`` (see :func:`.func_with_reqs.format_functions_for_prompt`)."""
        return format_functions_for_prompt(self.functions, self.functions_module, prompt_template)

    async def a_execute_code_blocks(self, code_blocks: list[CodeBlock]) -> CodeResult:
        """Run the blocks in order, stopping at the first that fails.

        Raises:
            CodeExecutionError: no sandbox here, and the executor may not run code without one.
        """
        if self.refusal is not None:
            raise CodeExecutionError(self.refusal)
        before = await asyncio.to_thread(dir_stamps, self._root, PRIVATE_DIR)
        outputs: list[str] = []
        exit_code = 0
        written: set[str] = set()
        code_file = None
        for block in code_blocks:
            command, path_or_error = self._prepare(block)
            if command is None:
                outputs.append(path_or_error)
                exit_code = 1
                break
            written.add(path_or_error)
            code_file = str(self._root / path_or_error)
            exit_code, output = await self._run(command, before)
            outputs.append(output)
            if exit_code != 0:
                break
        caps = FileCaps(self.max_files, self.max_file_bytes, self.max_total_bytes)
        gathered = await asyncio.to_thread(gather_dir, self._root, before, written, caps, PRIVATE_DIR)
        outputs += gathered.notes()
        return CodeResult(
            exit_code=exit_code, output="\n".join(outputs), files=tuple(gathered.files), code_file=code_file
        )

    def _prepare(self, block: CodeBlock) -> tuple[list[str] | None, str]:
        if block.language == "python":
            interpreter, suffix = [self.python, "-u"], ".py"
        elif block.language == "sh":
            interpreter, suffix = ["sh"], ".sh"
        else:
            return None, f"unknown language {block.language!r}: only python and sh code blocks run here"
        name = declared_filename(block.code) or generated_filename(block.code, suffix)
        path = (self._root / name).resolve()
        if not path.is_relative_to(self._root) or path.is_relative_to(self._private):
            return None, f"filename {name!r} is outside the work dir; use a path inside it"
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # never write through a link the code left at that name
        path.write_text(block.code)
        return [*interpreter, str(path)], path.relative_to(self._root).as_posix()

    async def _run(self, command: list[str], before: dict[str, Stamp]) -> tuple[int, str]:
        env = {k: os.environ[k] for k in _SAFE_ENV if k in os.environ}
        env.update(
            HOME=str(self._private / "home"),
            TMPDIR=str(self._private / "tmp"),
            MPLBACKEND="Agg",
            PYTHONIOENCODING="utf-8",
        )
        spawn: dict[str, Any] = {"preexec_fn": self.limits.apply(self.timeout)}
        if self.sandboxed:
            sandbox = sandbox_command(self._root, self.python, command)
            await asyncio.to_thread(hand_over, self._root, sandbox.host_uid)
            spawn["pass_fds"] = sandbox.fds
            try:
                done = await self._start(sandbox.argv, env, spawn, graceful=False, before=before)
            finally:
                sandbox.close()
        else:
            argv = [sys.executable, "-I", "-S", _reaper.__file__, *command]
            done = await self._start(argv, env, spawn, graceful=True, before=before)
        return _outcome(done, self.timeout)

    async def _start(
        self, argv: list[str], env: dict[str, str], spawn: dict[str, Any], *, graceful: bool, before: dict[str, Stamp]
    ) -> Finished:
        async def watch() -> str | None:
            used, entries = await asyncio.to_thread(dir_usage, self._root)
            if used > self.limits.work_dir_bytes or entries > self.limits.work_dir_files:
                return (
                    f"Disk quota: the work dir may hold {self.limits.work_dir_bytes} bytes in "
                    f"{self.limits.work_dir_files} entries; the code went past that and was stopped."
                )
            return None

        done = await run_to_deadline(
            argv,
            cwd=self._root,
            env=env,
            timeout=self.timeout,
            max_output=self.max_output,
            graceful=graceful,
            watch=watch,
            spawn=spawn,
        )
        if done.stopped:
            await asyncio.to_thread(_remove_new, self._root, before)
        return done

    async def a_restart(self) -> None:
        """Nothing survives between blocks here, so there is nothing to restart."""

    async def stop(self) -> None:
        """Remove the work dir when this executor created it."""
        if self._owns_dir:
            await asyncio.to_thread(self._cleanup)


def _outcome(done: Finished, timeout: float) -> tuple[int, str]:
    output = done.output
    if not done.output_complete:
        output += "\n(output incomplete: a background process kept the output open)"
    if done.stopped:
        return 1, f"{output}\n{done.stopped} The files it made were removed."
    if done.timed_out or done.returncode is None:
        return 124, f"{output}\nTimeout: the code ran longer than {timeout:g} s and was stopped."
    code = done.returncode
    return (128 - code if code < 0 else code), output


def _remove_new(root: Path, before: dict[str, Stamp]) -> None:
    """Remove what a run that broke the disk quota added (files it changed stay, as they are)."""
    for directory, dirs, names in os.walk(root, topdown=False, followlinks=False):
        for name in names:
            path = os.path.join(directory, name)
            if os.path.relpath(path, root) not in before:
                with contextlib.suppress(OSError):
                    os.unlink(path)
        for name in dirs:
            path = os.path.join(directory, name)
            if os.path.relpath(path, root).split(os.sep)[0] != PRIVATE_DIR:
                with contextlib.suppress(OSError):
                    os.rmdir(path)  # only empty ones go


@functools.cache
def _warn_unsandboxed() -> None:
    _log.warning(
        "bubblewrap is not available: code blocks do not run unsandboxed, so every run is refused. %s. "
        "To run code without a sandbox anyway, pass sandbox='none' (team file: sandbox: none).",
        HOW_TO_GET_ONE[0].upper() + HOW_TO_GET_ONE[1:],
    )
