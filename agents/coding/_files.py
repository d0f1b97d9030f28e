"""Reading back what code wrote, trusting nothing about it.

Names are checked (relative, no ``..``, inside the work dir), only regular files count (no
symlinks, devices, FIFOs, hard links, sparse files), and what comes back is capped by file
count, per-file bytes and total bytes (:class:`~agents.coding.limits.FileCaps`); whatever was
left out is said in notes. These functions run only once every process of the run is gone,
so nothing can swap a file under them; they still open files without following links.
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import os
import stat
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from .base import CodeFile
from .limits import FileCaps

__all__ = ["Gathered", "Stamp", "check_name", "dir_stamps", "dir_usage", "gather_dir", "gather_tar", "write_inside"]

Stamp = tuple[int, int, str]
"""What tells a file changed: (mtime, size, digest or inode)."""

_MAX_LISTED = 5
_MAX_SCANNED = 100_000  # archive members looked at; the rest of a huge tree is not listed


@dataclass
class Gathered:
    """Files that come back, what was left out (as notes), and every regular file's stamp."""

    caps: FileCaps
    files: list[CodeFile] = field(default_factory=list)
    stamps: dict[str, Stamp] = field(default_factory=dict)
    past_count: list[str] = field(default_factory=list)
    not_regular: list[str] = field(default_factory=list)
    without_bytes: list[str] = field(default_factory=list)
    truncated_scan: bool = False
    _total: int = 0

    def room_for(self, size: int) -> bool:
        """Whether a new file of ``size`` bytes may come back with its bytes (counts it)."""
        if size > self.caps.max_file_bytes or self._total + size > self.caps.max_total_bytes:
            return False
        self._total += size
        return True

    def add(self, name: str, size: int, data: bytes | None) -> None:
        if len(self.files) >= self.caps.max_files:
            self.past_count.append(name)
            return
        if data is None:
            self.without_bytes.append(name)
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        self.files.append(CodeFile(name, mime, size, data))

    def notes(self) -> list[str]:
        """Plain sentences about what did not come back, for the run's output."""
        out = []
        if self.past_count:
            out.append(
                f"{len(self.past_count)} more new file(s) left out (at most {self.caps.max_files} come back): "
                + _some(self.past_count)
            )
        if self.not_regular:
            out.append(
                "left out, not plain files (links, hard links, sparse files, devices): " + _some(self.not_regular)
            )
        large = [n for n in self.without_bytes if n not in self.past_count]
        if large:
            out.append(
                f"came back without their contents (over {self.caps.max_file_bytes} bytes each or "
                f"{self.caps.max_total_bytes} in all): " + _some(large)
            )
        if self.truncated_scan:
            out.append(f"the work dir holds more than {_MAX_SCANNED} entries; only the first were looked at")
        return out


def _some(names: list[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED])
    return shown + (f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else "")


def check_name(name: str) -> str | None:
    """The name as a clean relative POSIX path, or None when it is absolute, empty or climbs out."""
    path = PurePosixPath(name)
    if path.is_absolute() or not path.parts or any(part in ("..", "") for part in path.parts):
        return None
    clean = path.as_posix()
    return None if clean in (".",) or clean.startswith("./") else clean


def _walk(root: Path, skip: str | None) -> Iterator[tuple[str, os.stat_result]]:
    """(relative name, lstat) of everything under root, not following links, skipping ``skip``."""
    for directory, dirs, names in os.walk(root, followlinks=False):
        rel_dir = os.path.relpath(directory, root)
        if skip is not None and rel_dir == ".":
            dirs[:] = [d for d in dirs if d != skip]
        for name in [*dirs, *names]:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            try:
                yield rel, os.lstat(os.path.join(directory, name))
            except OSError:
                continue


def dir_stamps(root: Path, skip: str | None = None) -> dict[str, Stamp]:
    """Every regular file under root with its stamp."""
    return {
        name: (st.st_mtime_ns, st.st_size, str(st.st_ino)) for name, st in _walk(root, skip) if stat.S_ISREG(st.st_mode)
    }


def dir_usage(root: Path) -> tuple[int, int]:
    """(bytes on disk, entries) under root: what the work-dir quota counts."""
    used = entries = 0
    for _, st in _walk(root, None):
        used += st.st_blocks * 512
        entries += 1
    return used, entries


def _plain(st: os.stat_result) -> bool:
    """A regular file with one name whose blocks cover its size (no hard-link or sparse tricks)."""
    sparse = st.st_size > 65536 and st.st_blocks * 512 + 65536 < st.st_size
    return stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and not sparse


def gather_dir(
    root: Path, before: dict[str, Stamp], written: set[str], caps: FileCaps, skip: str | None = None
) -> Gathered:
    """The files under root that are new or changed since ``before``, minus ``written``."""
    out = Gathered(caps)
    for name, st in sorted(_walk(root, skip)):
        if stat.S_ISDIR(st.st_mode):
            continue
        stamp: Stamp = (st.st_mtime_ns, st.st_size, str(st.st_ino))
        if stat.S_ISREG(st.st_mode):
            out.stamps[name] = stamp
        if name in written or before.get(name) == stamp:
            continue
        if not _plain(st):
            out.not_regular.append(name)
            continue
        data = _read_plain(root / name, st) if len(out.files) < caps.max_files and out.room_for(st.st_size) else None
        out.add(name, st.st_size, data)
    return out


def _read_plain(path: Path, seen: os.stat_result) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        now = os.fstat(fd)
        if (now.st_ino, now.st_dev) != (seen.st_ino, seen.st_dev) or not _plain(now):
            return None
        return handle.read(seen.st_size)


class _ChunkReader:
    """A file-like view of an iterator of byte chunks, for :mod:`tarfile`'s stream mode."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = bytearray()

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        size = len(self._buffer) if size < 0 else size
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data


def gather_tar(
    chunks: Iterable[bytes], top: str, before: dict[str, Stamp], written: set[str], caps: FileCaps
) -> Gathered:
    """The new or changed regular files in a tar stream of directory ``top`` (as Docker's archive gives it).

    A member's stamp is its mtime, size and the SHA-256 of its bytes when they were read.
    """
    out = Gathered(caps)
    with tarfile.open(fileobj=_ChunkReader(chunks), mode="r|") as archive:  # type: ignore[call-overload]
        for scanned, member in enumerate(archive):
            if scanned >= _MAX_SCANNED:
                out.truncated_scan = True
                break
            name = _inside(member.name, top)
            if name is None or member.isdir():
                continue
            if not member.isreg() or member.issparse():
                if name not in written:
                    out.not_regular.append(name)
                continue
            data = _member_bytes(archive, member) if member.size <= caps.max_file_bytes else None
            stamp: Stamp = (int(member.mtime), member.size, hashlib.sha256(data).hexdigest() if data else "")
            out.stamps[name] = stamp
            if name in written or before.get(name) == stamp:
                continue
            keep = data is not None and len(out.files) < caps.max_files and out.room_for(member.size)
            out.add(name, member.size, data if keep else None)
    return out


def _inside(member_name: str, top: str) -> str | None:
    first, _, rest = member_name.partition("/")
    if first != top or not rest:
        return None
    return check_name(rest)


def _member_bytes(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes | None:
    handle: IO[bytes] | None = archive.extractfile(member)
    if handle is None:
        return None
    data = handle.read(member.size + 1)
    return data if len(data) == member.size else None


def write_inside(root: Path, name: str, data: bytes) -> bool:
    """Write ``data`` at ``root/name`` without following any link on the way; False if refused.

    Directories are made as needed; an existing symlink, hard-linked or non-regular file at
    the name (or on the way to it) makes the write fail instead of landing elsewhere.
    """
    clean = check_name(name)
    if clean is None:
        return False
    *dirs, leaf = clean.split("/")
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        dir_fd = os.open(root, flags)
    except OSError:
        return False
    try:
        for part in dirs:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o755, dir_fd=dir_fd)
            next_fd = os.open(part, flags, dir_fd=dir_fd)
            os.close(dir_fd)
            dir_fd = next_fd
        fd = os.open(leaf, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=dir_fd)
        with os.fdopen(fd, "wb") as handle:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
                return False
            handle.truncate(0)
            handle.write(data)
        return True
    except OSError:
        return False
    finally:
        os.close(dir_fd)
