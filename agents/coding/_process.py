"""Run one process to a hard deadline, whatever it leaves behind.

The process starts in a session of its own; its output (stdout and stderr on one pipe) is read
as it comes and capped. At the deadline, or when a watch says a quota was broken, it is
stopped: SIGTERM first when it is the reaper (which then kills the processes the code left),
then SIGKILL to its whole process group. The pipe is never waited on past a short grace: a
process outside the group that still holds it cannot keep the caller waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._shared import CappedOutput

__all__ = ["Finished", "run_to_deadline"]

GRACE = 2.0  # seconds a stopped process gets to go, and its pipe to close
_POLL = 0.25  # seconds between quota checks


@dataclass(frozen=True, slots=True)
class Finished:
    """How a process ended: its exit code (None when it had to be killed), output and why it was stopped."""

    returncode: int | None
    output: str
    timed_out: bool = False
    stopped: str | None = None
    output_complete: bool = True


async def run_to_deadline(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,  # noqa: ASYNC109 -- the deadline is the point: the process is killed at it
    max_output: int,
    graceful: bool = False,
    watch: Callable[[], Awaitable[str | None]] | None = None,
    spawn: Mapping[str, Any] | None = None,
) -> Finished:
    """Run ``argv`` and return within ``timeout`` plus a few seconds' grace.

    Args:
        argv: the command.
        cwd: its working directory.
        env: its whole environment.
        timeout: seconds it may run.
        max_output: bytes of output kept (the middle of longer output is cut).
        graceful: send SIGTERM to the process itself before SIGKILL to its group (for the reaper).
        watch: awaited every quarter second while it runs; a non-empty answer stops it (a quota).
        spawn: more arguments for :func:`asyncio.create_subprocess_exec` (``pass_fds``, ``preexec_fn``, ``user``).
    """
    loop = asyncio.get_running_loop()
    read_fd, write_fd = os.pipe()
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=dict(env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=write_fd,
            stderr=write_fd,
            start_new_session=True,
            **(spawn or {}),
        )
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    reader = asyncio.StreamReader(limit=1 << 20)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", buffering=0)
    )
    kept = CappedOutput(max_output)
    capture = asyncio.ensure_future(_drain(reader, kept))
    waiting = asyncio.ensure_future(proc.wait())
    deadline = loop.time() + timeout
    timed_out, stopped = False, None
    try:
        while not waiting.done():
            remaining = deadline - loop.time()
            if remaining <= 0:
                timed_out = True
                break
            await asyncio.wait({waiting}, timeout=min(remaining, _POLL) if watch else remaining)
            if watch is not None and not waiting.done() and (stopped := await watch()):
                break
    finally:
        if not waiting.done() and graceful:
            _signal(proc.pid, signal.SIGTERM)
            await asyncio.wait({waiting}, timeout=GRACE)
        _kill_group(proc.pid)  # the group's leftovers, whether it ended or not
        await asyncio.wait({waiting}, timeout=GRACE)
        await asyncio.wait({capture}, timeout=GRACE)
        complete = capture.done()
        capture.cancel()
        transport.close()
        if not waiting.done():
            waiting.cancel()
    returncode = waiting.result() if waiting.done() and not waiting.cancelled() else None
    return Finished(returncode, kept.text(), timed_out, stopped, complete)


async def _drain(reader: asyncio.StreamReader, kept: CappedOutput) -> None:
    while chunk := await reader.read(65536):
        kept.feed(chunk)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signum)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
