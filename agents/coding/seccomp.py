"""The seccomp filter the local sandbox loads: system calls that code run by an agent never needs.

The filter allows everything except a deny list, which fails with ``EPERM``: mounting, new
namespaces (``unshare``, ``setns``, ``clone`` with a namespace flag), tracing other processes,
the kernel keyring, eBPF, perf events, kernel modules, kexec, swap, reboot, the clock, raw I/O
ports, handle-based opens, ``userfaultfd`` and pushing input into a terminal (``TIOCSTI``).
``clone3`` fails with ``ENOSYS``: its flags live in memory a filter cannot read, and the C
library falls back to ``clone``, whose flags the filter checks.

The filter is compiled with libseccomp (through the ``pyseccomp`` package) into classic BPF,
which bubblewrap loads from a file descriptor (``--seccomp FD``) right before it starts the code.
"""

from __future__ import annotations

import errno
import functools
import os

__all__ = ["BLOCKED_SYSCALLS", "seccomp_filter", "seccomp_filter_fd"]

BLOCKED_SYSCALLS = (
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "unshare",
    "setns",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_getfd",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "quotactl",
    "syslog",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "iopl",
    "ioperm",
    "open_by_handle_at",
    "name_to_handle_at",
    "userfaultfd",
    "lookup_dcookie",
    "vhangup",
    "nfsservctl",
)

# Namespace flags of clone(2): a new namespace of any kind is refused.
_CLONE_NAMESPACES = (
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
    0x00000080,  # CLONE_NEWTIME
)
_TIOCSTI = 0x5412


@functools.cache
def seccomp_filter() -> bytes:
    """The compiled filter (classic BPF for this machine's architecture), built once.

    Raises:
        OSError: libseccomp or the ``pyseccomp`` package is missing, or the filter cannot be built.
    """
    try:
        import pyseccomp as sc  # type: ignore[import-untyped]  # noqa: PLC0415 - only where a filter is built
    except (ImportError, RuntimeError) as exc:  # pyseccomp raises RuntimeError without libseccomp
        raise OSError(f"cannot build a seccomp filter: {exc} (install libseccomp2 and pyseccomp)") from exc
    deny = sc.ERRNO(errno.EPERM)
    rules = sc.SyscallFilter(sc.ALLOW)
    for name in BLOCKED_SYSCALLS:
        try:
            rules.add_rule(deny, name)
        except (OSError, ValueError):
            continue  # a call this architecture does not have cannot be made either
    for flag in _CLONE_NAMESPACES:
        rules.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    rules.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    rules.add_rule(deny, "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, _TIOCSTI))
    fd = os.memfd_create("threadcrew-seccomp-build", os.MFD_CLOEXEC)
    try:
        with os.fdopen(os.dup(fd), "wb") as sink:
            rules.export_bpf(sink)
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)


def seccomp_filter_fd() -> int:
    """A new file descriptor, positioned at the start, holding the compiled filter (the caller closes it).

    Raises:
        OSError: the filter cannot be built (see :func:`seccomp_filter`).
    """
    program = seccomp_filter()
    fd = os.memfd_create("threadcrew-seccomp", os.MFD_CLOEXEC)
    try:
        os.write(fd, program)
        os.lseek(fd, 0, os.SEEK_SET)
    except OSError:
        os.close(fd)
        raise
    return fd
