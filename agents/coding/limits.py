"""Quotas for code runs: what a block may use, and how much of what it made comes back.

:class:`ResourceLimits` bites inside the run (the kernel's resource limits for the local
executor, the engine's limits for Docker); :class:`FileCaps` bounds what is read back from
the work dir into the bot's memory and posted to the thread.
"""

from __future__ import annotations

import math
import resource
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["FileCaps", "ResourceLimits"]

_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ResourceLimits:
    """What one code block may use.

    Args:
        processes: processes (and threads) at once; the local executor counts them per host user.
        memory_bytes: address space per process locally (``RLIMIT_AS``); the container's
            memory limit is Docker's ``mem_limit``.
        cpu_seconds: CPU seconds per process; None means the block's timeout, rounded up.
        file_bytes: the largest file the code may write (``RLIMIT_FSIZE``).
        work_dir_bytes: what all files in the work dir may take on disk, together.
        work_dir_files: how many files and directories the work dir may hold.
        open_files: open file descriptors per process.
    """

    processes: int = 64
    memory_bytes: int = 1024 * _MIB
    cpu_seconds: int | None = None
    file_bytes: int = 256 * _MIB
    work_dir_bytes: int = 512 * _MIB
    work_dir_files: int = 10_000
    open_files: int = 256

    def __post_init__(self) -> None:
        for name in ("processes", "memory_bytes", "file_bytes", "work_dir_bytes", "work_dir_files", "open_files"):
            if getattr(self, name) <= 0:
                raise ValueError(f"ResourceLimits.{name} must be a positive number, not {getattr(self, name)!r}")
        if self.cpu_seconds is not None and self.cpu_seconds <= 0:
            raise ValueError(f"ResourceLimits.cpu_seconds must be positive or None, not {self.cpu_seconds!r}")

    def cpu_for(self, timeout: float) -> int:
        """CPU seconds for a block with this timeout."""
        return self.cpu_seconds if self.cpu_seconds is not None else math.ceil(timeout) + 1

    def apply(self, timeout: float) -> Callable[[], None]:
        """A function that sets these limits on the current process (for ``preexec_fn``)."""
        pairs = [
            (resource.RLIMIT_NPROC, self.processes),
            (resource.RLIMIT_AS, self.memory_bytes),
            (resource.RLIMIT_CPU, self.cpu_for(timeout)),
            (resource.RLIMIT_FSIZE, self.file_bytes),
            (resource.RLIMIT_NOFILE, self.open_files),
            (resource.RLIMIT_CORE, 0),  # no core files: they fill the disk and may hold secrets
        ]

        def limit() -> None:
            for kind, value in pairs:
                resource.setrlimit(kind, (value, value))

        return limit


@dataclass(frozen=True, slots=True)
class FileCaps:
    """How much of what the code wrote comes back as attachments.

    Args:
        max_files: files per run; the rest are named in a note.
        max_file_bytes: a larger file comes back without its bytes (name and size only).
        max_total_bytes: bytes of all files of a run together; past it, files come back without bytes.
    """

    max_files: int = 20
    max_file_bytes: int = 10 * _MIB
    max_total_bytes: int = 50 * _MIB
