"""Run a command and take every process it starts down with it (for code run without a sandbox).

Run as a script (``python -I -S _reaper.py COMMAND...``), standard library only. It becomes a
child subreaper, so a process that leaves its parent (``setsid cmd &``, double forks) is
re-parented here instead of to init. When the command exits, or when this process gets
SIGTERM (the executor's timeout), every descendant is killed and reaped, and it exits with
the command's status (124 after SIGTERM).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


class _Stop(Exception):
    pass


def _stop(signum: int, frame: object) -> None:
    raise _Stop


def _children() -> list[int]:
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1].decode() == me:
            found.append(int(entry))
    return found


def _kill_all() -> None:
    """Kill children until none is left; orphans of the killed ones come here and go next."""
    while True:
        for pid in _children():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def main(argv: list[str]) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    signal.signal(signal.SIGTERM, _stop)
    status = 1
    try:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                os.execvp(argv[0], argv)
            finally:
                os._exit(127)
        while True:
            done, raw = os.waitpid(-1, 0)
            if done == pid:
                status = os.waitstatus_to_exitcode(raw)
                break
    except _Stop:
        status = 124
    except ChildProcessError:
        pass
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _kill_all()
    return 128 - status if status < 0 else status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
