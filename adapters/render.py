"""Rendering helpers shared by the platforms: splitting at a length limit without breaking code,
and defusing mass mentions."""

from __future__ import annotations

import re

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


def split_markdown(text: str, limit: int) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` characters.

    Pieces end at line breaks where they can (paragraph breaks first). A code block cut in two is
    closed at the end of one piece and opened again, with its language, at the start of the next,
    so every piece renders on its own.

    Raises:
        ValueError: ``limit`` is too small to hold a fence and some code (under 20).
    """
    if limit < 20:
        raise ValueError("limit must be at least 20 characters")
    if len(text) <= limit:
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
        size = len(fence) if fence is not None else 0

    for line in _lines_within(text, limit - 10):
        reserve = len(_closing(fence)) + 1 if fence is not None else 0
        if current and size + 1 + len(line) + reserve > limit:
            flush()
        current.append(line)
        size += len(line) + (1 if size else 0)
        marker = _FENCE.match(line)
        if marker:
            fence = None if fence is not None else line.strip()
    if current and "\n".join(current).strip():
        pieces.append("\n".join(current))
    return _merge_paragraph_breaks(pieces)


def _closing(fence: str) -> str:
    match = _FENCE.match(fence)
    return match.group(1) if match else "```"


def _lines_within(text: str, width: int) -> list[str]:
    lines = []
    for line in text.split("\n"):
        rest = line
        while len(rest) > width:
            lines.append(rest[:width])
            rest = rest[width:]
        lines.append(rest)
    return lines


def _merge_paragraph_breaks(pieces: list[str]) -> list[str]:
    return [piece.strip("\n") for piece in pieces]
