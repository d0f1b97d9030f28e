"""The local sandbox: bubblewrap, never as host root, with a seccomp filter.

What a block run through :func:`sandbox_command` gets:

- a host uid that is not root. When the bot runs as root, bubblewrap builds the sandbox
  without a user namespace (one would map the code's uid to host root) and the code starts
  through ``setpriv`` as ``SANDBOX_UID`` (nobody): no capabilities, no groups, no new
  privileges. Otherwise a user namespace maps the code's uid to the bot's own, and
  ``--disable-userns`` forbids any further one;
- its own PID, network, IPC, UTS (and cgroup) namespaces: no network, no other process in sight;
- a fresh ``/proc`` whose ``sys``, ``sysrq-trigger``, ``irq`` and ``bus`` are read-only;
- the system (``/usr``, a few files of ``/etc``, the interpreter's trees) read-only, a small
  ``/tmp`` (unless the work dir lies under ``/tmp``), and the work dir as the only other
  writable place; everything else of the host, the bot's data dir included, is absent;
- the seccomp filter of :mod:`agents.coding.seccomp` (no mount, ptrace, keyctl, bpf,
  unshare, modules, ...).

The caller sets the resource limits (:class:`~agents.coding.limits.ResourceLimits`) and kills
bubblewrap's process group at the timeout: bubblewrap dies, its PID namespace goes with it.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ._interpreter import interpreter_trees
from .seccomp import seccomp_filter_fd

__all__ = ["SANDBOX_UID", "SandboxCommand", "bubblewrap_problem", "bubblewrap_works", "sandbox_command"]

_log = logging.getLogger(__name__)

SANDBOX_UID = 65534
HOW_TO_GET_ONE = (
    "install bubblewrap 0.8 or later (apt-get install bubblewrap) on a kernel that allows user namespaces, "
    "or run code in Docker (sandbox: docker)"
)
_ETC = (
    "alternatives",
    "fonts",
    "group",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "matplotlibrc",
    "mime.types",
    "nsswitch.conf",
    "passwd",
    "ssl",
)
_TOPS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


@dataclass
class SandboxCommand:
    """A bubblewrap command line, the descriptors it needs passed, and the host user to run it as."""

    argv: list[str]
    fds: list[int] = field(default_factory=list)
    host_uid: int | None = None

    def close(self) -> None:
        """Close the descriptors (after the process started, or when it could not)."""
        for fd in self.fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds.clear()


def host_uid() -> int | None:
    """The host uid code runs as: nobody when this process is root, else this process's own."""
    return SANDBOX_UID if os.geteuid() == 0 else None


def sandbox_command(
    work_dir: Path, python: str, command: list[str], tmp_bytes: int = 64 * 1024 * 1024
) -> SandboxCommand:
    """The bubblewrap command that runs ``command`` with ``work_dir`` (absolute) as its only writable dir.

    Raises:
        OSError: the work dir or the interpreter's tree cannot be opened, or no seccomp filter can be built.
    """
    out = SandboxCommand(["bwrap"], host_uid=host_uid())
    try:
        _build(out, work_dir, python, command, tmp_bytes)
    except OSError:
        out.close()
        raise
    return out


def _build(out: SandboxCommand, work_dir: Path, python: str, command: list[str], tmp_bytes: int) -> None:
    if out.host_uid is None:
        # Not root: a user namespace maps the sandbox's uid to ours, and no further one may be made.
        out.argv += ["--unshare-all", "--unshare-user", "--disable-userns"]
    else:
        # Root: no user namespace (it would map to host root); setpriv drops to nobody below.
        out.argv += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    out.argv += ["--die-with-parent", "--new-session", "--proc", "/proc", "--dev", "/dev", "--ro-bind", "/usr", "/usr"]
    for top in _TOPS:
        if os.path.islink(top):
            out.argv += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            out.argv += ["--ro-bind", top, top]
    for name in _ETC:
        if os.path.exists(f"/etc/{name}"):
            out.argv += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    if not Path(work_dir).is_relative_to("/tmp"):
        # A writable /tmp; not when the work dir lies under it, or the work dir's parents (the
        # names of the bot's data dir, its other conversations) would be writable there too.
        # It comes first: an interpreter that lives under /tmp (a venv) is bound over it below.
        out.argv += ["--size", str(tmp_bytes), "--perms", "1777", "--tmpfs", "/tmp"]
    # The interpreter may live outside /usr (a venv, pyenv): its trees are visible, read-only.
    trees = {sys.prefix, sys.base_prefix, *interpreter_trees(python)}
    for tree in sorted(t for t in trees if t and t != "/usr" and not t.startswith(("/usr/", *_TOPS))):
        out.argv += [*_parents(tree), "--ro-bind", tree, tree]
    # Last, the root (where bwrap made the mount points) turns read-only.
    out.argv += [*_parents(str(work_dir)), "--bind", str(work_dir), str(work_dir)]
    out.argv += ["--remount-ro", "/", "--chdir", str(work_dir)]
    seccomp = seccomp_filter_fd()
    out.fds.append(seccomp)
    out.argv += ["--seccomp", str(seccomp)]
    if out.host_uid is None:
        out.argv += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--", *command]
    else:
        uid = str(out.host_uid)
        drop = ["--reuid", uid, "--regid", uid, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"]
        out.argv += ["--", _setpriv(), *drop, "--no-new-privs", "--", *command]


def _parents(path: str) -> list[str]:
    """Make the mount point's parents traversable (bubblewrap would make them 0700, root's only)."""
    args = []
    for parent in reversed(Path(path).parents):
        if str(parent) != "/":
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def _setpriv() -> str:
    found = shutil.which("setpriv")
    if found is None:
        raise OSError("setpriv (util-linux) is missing: it drops the sandbox to an unprivileged user")
    return found


def hand_over(work_dir: Path, uid: int | None) -> None:
    """Make the work dir's tree the sandbox user's (when it runs as another host user), links untouched."""
    if uid is None:
        return
    with contextlib.suppress(OSError):
        os.chown(work_dir, uid, uid, follow_symlinks=False)
    for directory, dirs, names in os.walk(work_dir, followlinks=False):
        for name in [*dirs, *names]:
            with contextlib.suppress(OSError):
                os.chown(os.path.join(directory, name), uid, uid, follow_symlinks=False)


@functools.cache
def bubblewrap_problem() -> str | None:
    """Why the sandbox cannot run here (checked once, by running it), or None when it works."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed"
    probe_dir = Path(tempfile.mkdtemp(prefix="threadcrew-probe-"))
    try:
        hand_over(probe_dir, host_uid())
        try:
            command = sandbox_command(probe_dir, "/bin/true", ["/bin/true"])
        except OSError as exc:
            return f"the sandbox cannot be set up: {exc}"
        try:
            probe = subprocess.run(
                command.argv,
                capture_output=True,
                timeout=20,
                check=False,
                pass_fds=command.fds,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return f"bubblewrap does not start: {exc}"
        finally:
            command.close()
    finally:
        shutil.rmtree(probe_dir, ignore_errors=True)
    if probe.returncode != 0:
        detail = probe.stderr.decode(errors="replace").strip()[-300:]
        _log.info("bubblewrap is installed but does not work here: %s", detail)
        return f"bubblewrap is installed but cannot build its sandbox here: {detail}"
    return None


def bubblewrap_works() -> bool:
    """Whether the sandbox runs on this machine (checked once)."""
    return bubblewrap_problem() is None
