"""Rendering helpers shared by the platforms: splitting at a length limit without breaking code,
and defusing mass mentions."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

__all__ = ["defuse_mass_mentions", "split_markdown"]

_FENCE = re.compile(r"^\s*(```+|~~~+)")
_MASS = re.compile(r"@(everyone|here|channel)\b", re.IGNORECASE)
# Slack's own syntax: <!channel>, <!here|here>, <!everyone>, and user groups <!subteam^S123|@team>.
_SLACK_MASS = re.compile(r"<!(everyone|here|channel)(?:\|[^>]*)?>", re.IGNORECASE)
_SLACK_GROUP = re.compile(r"<!subteam\^[A-Za-z0-9]+(?:\|@?([^>]*))?>")


def defuse_mass_mentions(text: str) -> str:
    """``@everyone``, ``@here``, ``@channel`` (and Slack's ``<!channel>``, ``<!here>``,
    ``<!everyone>`` and user-group mentions) lose their power: plain text with a zero-width
    space after the @."""
    text = _SLACK_MASS.sub(lambda m: "@\u200b" + m.group(1).lower(), text)
    text = _SLACK_GROUP.sub(lambda m: "@\u200b" + (m.group(1) or "group"), text)
    return _MASS.sub("@\u200b\\1", text)


def split_markdown(text: str, limit: int, *, length: Callable[[str], int] = len) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` characters, as ``length`` counts them.

    Pieces end at line breaks where they can (paragraph breaks first). A code block cut in two is
    closed at the end of one piece and opened again, with its language, at the start of the next,
    so every piece renders on its own. A line longer than a piece is cut hard, but never inside a
    character and what joins to it (an emoji's skin tone, a ZWJ sequence, an accent).

    Args:
        text: markdown.
        limit: the most one piece may hold.
        length: how the platform counts (``len``: code points; Discord's UTF-16 units are longer).

    Raises:
        ValueError: ``limit`` is too small to hold a fence and some code (under 20).
    """
    if limit < 20:
        raise ValueError("limit must be at least 20 characters")
    if length(text) <= limit:
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    fence: str | None = None  # the opening line of the code block we are in

    def flush() -> None:
        nonlocal current, size
        body = "\n".join(current)
        if fence is not None:
            body += "\n" + _closing(fence)
        if body.strip():
            pieces.append(body)
        current = [fence] if fence is not None else []
        size = length(fence) if fence is not None else 0

    for line in _lines_within(text, limit - 10, length):
        reserve = length(_closing(fence)) + 1 if fence is not None else 0
        if current and size + 1 + length(line) + reserve > limit:
            flush()
        current.append(line)
        size += length(line) + (1 if size else 0)
        marker = _FENCE.match(line)
        if marker:
            fence = None if fence is not None else line.strip()
    if current and "\n".join(current).strip():
        pieces.append("\n".join(current))
    return _merge_paragraph_breaks(pieces)


def _closing(fence: str) -> str:
    match = _FENCE.match(fence)
    return match.group(1) if match else "```"


def _lines_within(text: str, width: int, length: Callable[[str], int]) -> list[str]:
    lines = []
    for line in text.split("\n"):
        rest = line
        while length(rest) > width:
            cut = _cut(rest, width, length)
            lines.append(rest[:cut])
            rest = rest[cut:]
        lines.append(rest)
    return lines


def _cut(line: str, width: int, length: Callable[[str], int]) -> int:
    """Where to cut ``line`` so the first part holds at most ``width``: not before a joining character."""
    cut, used = 0, 0
    while cut < len(line) and used + length(line[cut]) <= width:
        used += length(line[cut])
        cut += 1
    safe = cut
    while safe > 0 and (_joins_before(line[safe]) or line[safe - 1] == _ZWJ):
        safe -= 1
    return safe or cut  # a whole piece of joined characters is cut where it must be


_ZWJ = "\u200d"


def _joins_before(char: str) -> bool:
    """Whether ``char`` belongs to the character before it (a mark, a joiner, a variation or skin tone)."""
    return (
        char == _ZWJ
        or "\ufe00" <= char <= "\ufe0f"
        or "\U0001f3fb" <= char <= "\U0001f3ff"
        or "\U000e0020" <= char <= "\U000e007f"  # tag characters (flags of regions)
        or unicodedata.category(char) in ("Mn", "Me", "Mc")
    )


def _merge_paragraph_breaks(pieces: list[str]) -> list[str]:
    return [piece.strip("\n") for piece in pieces]
