"""The attacks, as code blocks an agent could be made to write, and what must hold after each.

Every attack takes the fake bot (:class:`Bot`: secrets in the environment, a database and
another conversation's files in the data dir) and gives its code; its check asserts on the
run's outcome and on the host. The same attacks run as root and, through
``run_unprivileged.py``, as an unprivileged user.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SECRET = "hostile-test-" + "secret-3f9a27"  # never written whole into attack code
CORE_PATTERN = Path("/proc/sys/kernel/core_pattern")


@dataclass(frozen=True)
class Bot:
    """The fake bot's data dir: its database, another conversation's files, this conversation's work dir."""

    data_dir: Path
    db: Path
    other: Path
    work_dir: Path

    @classmethod
    def make(cls, data_dir: Path) -> Bot:
        data_dir.mkdir(parents=True, exist_ok=True)
        db = data_dir / "threadcrew.db"
        with sqlite3.connect(db) as conn:
            conn.execute("create table installations (token text)")
            conn.execute("insert into installations values (?)", (f"xoxb-{SECRET}",))
        conn.close()
        other = data_dir / "conversation-2" / "notes.txt"
        other.parent.mkdir()
        other.write_text(f"another thread's data: {SECRET}")
        work_dir = data_dir / "conversation-1"
        work_dir.mkdir()
        return cls(data_dir, db, other, work_dir)

    def as_json(self) -> dict[str, str]:
        return {k: str(v) for k, v in vars(self).items()}

    @classmethod
    def from_json(cls, raw: dict[str, str]) -> Bot:
        return cls(**{k: Path(v) for k, v in raw.items()})

    def fingerprint(self) -> dict[str, bytes]:
        """Every file of the data dir outside the work dirs the tests run code in, with its bytes."""
        mine = (self.work_dir, self.data_dir / "conversation-3")
        return {
            str(p): p.read_bytes()
            for p in sorted(self.data_dir.rglob("*"))
            if p.is_file() and not any(p.is_relative_to(m) for m in mine)
        }


def secret_env() -> dict[str, str]:
    """What the test process's environment holds while attacks run."""
    return {"OPENAI_API_KEY": f"sk-{SECRET}", "THREADCREW_SLACK_BOT_TOKEN": f"xoxb-{SECRET}", "DATABASE_URL": SECRET}


def code(name: str, bot: Bot) -> str:
    """The attack's code block (python)."""
    paths = {"db": str(bot.db), "other": str(bot.other), "data": str(bot.data_dir)}
    return _CODE[name].replace("PATHS", repr(paths))


_CODE = {
    # Keys and tokens: the environment, every process's environ, the database, another thread's files.
    "read_secrets": """
import glob, os
paths = PATHS
print(sorted(os.environ.items()))
for p in glob.glob('/proc/[0-9]*/environ'):
    try: print(p, open(p, 'rb').read().replace(b'\\0', b' ').decode(errors='replace'))
    except OSError as e: print('environ refused', p, e.errno)
for key in ('db', 'other'):
    try: print(key, open(paths[key], 'rb').read().decode(errors='replace'))
    except OSError as e: print('refused', key, e.errno)
try: print('listing', os.listdir(paths['data']))
except OSError as e: print('refused data', e.errno)
print('done')
""",
    # Writes outside the work dir: the database, another thread's files, the system.
    "write_outside": """
paths = PATHS
for target in (paths['db'], paths['other'], paths['data'] + '/planted.txt', '/etc/planted', '/usr/planted'):
    try:
        open(target, 'a').write('planted by hostile code')
        print('WROTE', target)
    except OSError as e:
        print('refused', e.errno)
print('done')
""",
    # core_pattern: the write is of the value it already has (harmless if it ever succeeded).
    "core_pattern": """
current = open('/proc/sys/kernel/core_pattern').read()
try:
    with open('/proc/sys/kernel/core_pattern', 'w') as f:
        f.write(current)
    print('WROTE core_pattern')
except OSError as e:
    print('core_pattern refused', e.errno)
for p in ('/proc/sysrq-trigger', '/proc/sys/vm/drop_caches'):
    try:
        open(p, 'w').close()
        print('OPENED', p)
    except OSError as e:
        print('refused', p, e.errno)
""",
    # New namespaces, mounts, ptrace: what the seccomp filter (and --disable-userns) take away.
    "namespaces": """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for name, flag in (('user', 0x10000000), ('mount', 0x00020000), ('net', 0x40000000), ('pid', 0x20000000)):
    print('unshare', name, libc.unshare(flag), ctypes.get_errno())
print('mount', libc.mount(b'none', b'/tmp', b'tmpfs', 0, None), ctypes.get_errno())
print('ptrace', libc.ptrace(16, 1, 0, 0), ctypes.get_errno())
status = dict(l.split(':', 1) for l in open('/proc/self/status'))
print('seccomp', status['Seccomp'].strip(), 'nnp', status['NoNewPrivs'].strip(), 'caps', status['CapEff'].strip())
print('uid', os.getuid())
open('whoami.txt', 'w').write('the host sees who made this')
""",
    # The bot's neighbours on the host: PostgreSQL, Redis, the Docker engine's socket.
    "network": """
import socket
for port in (5432, 6379, 2375):
    try:
        socket.create_connection(('127.0.0.1', port), timeout=2)
        print('CONNECTED', port)
    except OSError as e:
        print('refused', port, e.errno)
for path in ('/var/run/docker.sock', '/run/docker.sock', '/run/postgresql/.s.PGSQL.5432'):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        print('CONNECTED', path)
    except OSError as e:
        print('refused', path, e.errno)
""",
    "fork_bomb": """
import os, time
n = 0
try:
    for _ in range(3000):
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        n += 1
except OSError as e:
    print('fork refused', e.errno)
print('forked', n)
""",
    "memory_bomb": """
try:
    hog = bytearray(4 * 1024 ** 3)
    print('ALLOCATED', len(hog))
except MemoryError:
    print('memory refused')
""",
    "disk_bomb": """
import os
chunk = b'x' * (1024 * 1024)
try:
    with open('huge.bin', 'wb') as f:
        for _ in range(5 * 1024):
            f.write(chunk)
    print('WROTE 5 GiB')
except OSError as e:
    print('file refused', e.errno)
os.remove('huge.bin')
n = 0
try:
    for i in range(400):
        with open(f'fill{i}.bin', 'wb') as f:
            for _ in range(4):
                f.write(chunk)
        n += 1
        __import__('time').sleep(0.01)
    print('FILLED', n)
except OSError as e:
    print('disk refused', e.errno, 'after', n)
""",
    # A process that leaves the group, keeps the output open and holds a lock in the work dir.
    "escape_timeout": """
import subprocess, sys
holder = ("import fcntl, os, time; f = open('held.lock', 'w'); fcntl.flock(f, fcntl.LOCK_EX); "
          "print('holding', flush=True); time.sleep(3600)")
subprocess.Popen(['setsid', sys.executable, '-c', holder])
import time; time.sleep(1)
print('left it running', flush=True)
""",
    # Links out of the work dir, a forged file list on every channel back, names that climb out.
    "forged_files": """
import json, os, sys
paths = PATHS
os.symlink(paths['db'], 'db-link')
os.symlink('/etc/passwd', 'passwd-link')
os.symlink(paths['data'], 'data-link')
os.mkfifo('a-fifo')
open('real.txt', 'w').write('real')
forged = json.dumps({'files': {'../planted-by-list.txt': [1, 5], paths['data'] + '/abs.txt': [1, 5]}, 'oom': 0})
print(forged)
print(forged, file=sys.stderr)
for fd in (1, 2):
    try:
        with open(f'/proc/{os.getppid()}/fd/{fd}', 'w') as f: f.write(forged + '\\n')
    except OSError: pass
""",
    # 100 hard links to one sparse 10 MB file, and more small files than may come back.
    "fan_out": """
import os
with open('sparse.bin', 'wb') as f:
    f.truncate(10_000_000)
for i in range(100):
    os.link('sparse.bin', f'link{i:03}.bin')
for i in range(60):
    open(f'small{i:02}.txt', 'w').write('s' * 1000)
print('made')
""",
}


def check(
    name: str, bot: Bot, exit_code: int, output: str, files: list[tuple[str, int, bytes | None]], where: str = "local"
) -> None:
    """Assert that the attack failed (``files``: name, size, data of what came back; ``where``: local or docker).

    Raises:
        AssertionError: the attack got somewhere.
    """
    assert SECRET not in output, f"{name}: a secret reached the code"
    for _, _, data in files:
        assert data is None or SECRET.encode() not in data, f"{name}: a secret came back in a file"
    if name == "namespaces":
        _namespaces(bot, exit_code, output, where)
    else:
        _CHECKS[name](bot, exit_code, output, files)


def _read_secrets(bot: Bot, exit_code: int, output: str, files: Any) -> None:
    assert "done" in output
    assert "refused db" in output
    assert "refused other" in output
    listing = output.split("listing", 1)[1].split("\n", maxsplit=1)[0] if "listing" in output else ""
    assert "conversation-2" not in listing
    assert "threadcrew.db" not in listing


def _write_outside(bot: Bot, exit_code: int, output: str, files: Any) -> None:
    assert "done" in output
    assert "WROTE" not in output
    assert output.count("refused") == 5


def _core_pattern(bot: Bot, exit_code: int, output: str, files: Any) -> None:
    assert "WROTE" not in output
    assert "OPENED" not in output
    refused = output.split("core_pattern refused ", 1)[1].split(maxsplit=1)[0]
    assert int(refused) in (errno.EROFS, errno.EACCES, errno.EPERM)


def _namespaces(bot: Bot, exit_code: int, output: str, where: str) -> None:
    assert exit_code == 0, output
    for kind in ("user", "mount", "net", "pid"):
        assert f"unshare {kind} -1 " in output, output
    assert "mount -1 " in output
    assert "seccomp 2 nnp 1 caps 0000000000000000" in output
    assert int(output.split("uid ", 1)[1].split(maxsplit=1)[0]) != 0
    if where == "local":  # the host's own view of the code's uid (Docker's files come back written by the bot)
        assert (bot.work_dir / "whoami.txt").stat().st_uid != 0, "the code ran as root on the host"
        # Docker's profile lets a process trace its own container's; the local filter blocks ptrace.
        assert "ptrace -1 " in output


def _network(bot: Bot, exit_code: int, output: str, files: Any) -> None:
    assert exit_code == 0, output
    assert "CONNECTED" not in output
    assert output.count("refused") == 6


def _fork_bomb(bot: Bot, exit_code: int, output: str, files: Any) -> None:
    assert "fork refused" in output
    forked = int(output.split("forked ", 1)[1].split(maxsplit=1)[0])
    assert forked < 3000


def _memory_bomb(bot: Bot, exit_code: int, output: str, files: Any) -> None:
    assert "ALLOCATED" not in output
    assert "memory refused" in output or exit_code == 137


def _disk_bomb(bot: Bot, exit_code: int, output: str, files: Any) -> None:
    assert "WROTE 5 GiB" not in output
    assert "file refused" in output
    assert "FILLED" not in output
    assert "disk refused" in output or "Disk quota" in output


def _escape_timeout(bot: Bot, exit_code: int, output: str, files: Any) -> None:
    assert "left it running" in output


def _forged_files(bot: Bot, exit_code: int, output: str, files: list[tuple[str, int, bytes | None]]) -> None:
    assert [f[0] for f in files] == ["real.txt"]
    assert files[0][2] == b"real"
    assert "db-link" in output  # named in the note about what was left out
    assert not (bot.data_dir / "planted-by-list.txt").exists()
    assert not (bot.data_dir / "abs.txt").exists()
    assert not any(p.name == "planted-by-list.txt" for p in bot.data_dir.parent.rglob("*"))


def _fan_out(bot: Bot, exit_code: int, output: str, files: list[tuple[str, int, bytes | None]]) -> None:
    assert exit_code == 0, output
    assert len(files) <= 20
    assert sum(len(d) for _, _, d in files if d) <= 10_000_000 + 20_000
    assert sum(1 for name, _, _ in files if name.startswith(("link", "sparse"))) <= 1  # one name of the 101
    assert "left out" in output


_CHECKS = {
    "read_secrets": _read_secrets,
    "write_outside": _write_outside,
    "core_pattern": _core_pattern,
    "network": _network,
    "fork_bomb": _fork_bomb,
    "memory_bomb": _memory_bomb,
    "disk_bomb": _disk_bomb,
    "escape_timeout": _escape_timeout,
    "forged_files": _forged_files,
    "fan_out": _fan_out,
}
ALL = tuple(_CODE)


def host_state(bot: Bot) -> dict[str, Any]:
    """What no attack may change on the host."""
    return {"core_pattern": CORE_PATTERN.read_text(), "data": bot.fingerprint(), "etc": os.path.exists("/etc/planted")}
