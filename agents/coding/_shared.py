"""What both executors do the same way: file names for code blocks, and capped output."""

from __future__ import annotations

import hashlib

__all__ = ["CappedOutput", "declared_filename", "generated_filename"]

_FILENAME_PREFIXES = ("# filename:", "# filename ", "// filename:")


def declared_filename(code: str) -> str | None:
    """The file a block asks to be saved as (AutoGen's ``# filename: x.py`` first line), or None."""
    first = code.lstrip().split("\n", 1)[0].strip()
    for prefix in _FILENAME_PREFIXES:
        if first.startswith(prefix):
            return first[len(prefix) :].strip() or None
    return None


def generated_filename(code: str, suffix: str) -> str:
    """A stable file name for a block that declares none."""
    return f"tmp_code_{hashlib.sha256(code.encode()).hexdigest()[:16]}{suffix}"


class CappedOutput:
    """Keeps the first and last halves of ``cap`` bytes of a stream and counts what it cut."""

    def __init__(self, cap: int) -> None:
        self._half = cap // 2
        self._tail_room = cap - self._half
        self._head = bytearray()
        self._tail = bytearray()
        self.cut = 0

    def feed(self, chunk: bytes) -> None:
        room = self._half - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        self._tail += chunk
        if len(self._tail) > self._tail_room:
            excess = len(self._tail) - self._tail_room
            self.cut += excess
            del self._tail[:excess]

    def text(self) -> str:
        """The kept output; a marker in the middle says how many bytes were cut."""
        marker = f"\n... {self.cut} bytes cut ...\n" if self.cut else ""
        return self._head.decode(errors="replace") + marker + self._tail.decode(errors="replace")
