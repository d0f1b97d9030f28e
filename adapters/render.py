"""Rendering helpers shared by the platforms: splitting at a length limit without breaking code,
defusing mass mentions, keeping agents from pinging people outside the thread, and showing where
links go."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Literal

__all__ = ["MentionPolicy", "defuse_mass_mentions", "limit_mentions", "show_link_targets", "split_markdown"]

MentionPolicy = Literal["none", "thread", "any"]
"""Whom agent text may ping: nobody, the people in the thread, or anyone."""

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


# <@U123>, <@U123|name> (Slack), <@123>, <@!123> (Discord users), <@&123> (Discord roles)
_PERSON = re.compile(r"<@([!&]?)([A-Za-z0-9._-]+)(?:\|([^>\n]*))?>")
_SCHEMES = r"(?:https?|ftp|mailto):"
_SLACK_LINK = re.compile(rf"<({_SCHEMES}[^|>\s]+)\|([^>\n]+)>")
_MARKDOWN_LINK = re.compile(rf"(?<!!)\[([^\]\n]+)\]\(({_SCHEMES}[^)\s]+)\)")
_CODE = re.compile(r"(^[ \t]*(```+|~~~+).*?(?:^[ \t]*\2[ \t]*$|\Z)|`[^`\n]+`)", re.MULTILINE | re.DOTALL)


def limit_mentions(text: str, policy: MentionPolicy, people: Collection[str]) -> str:
    """Mentions of people (``<@U123>``) that ``policy`` does not allow become plain text.

    ``none``: no mention pings; ``thread``: only mentions of ``people`` (the ids of the people in the
    thread) ping; ``any``: all do. Role mentions count as outside the thread. Code is left alone.
    """
    if policy == "any":
        return text

    def person(match: re.Match[str]) -> str:
        kind, who, label = match.group(1), match.group(2), match.group(3)
        if policy == "thread" and kind != "&" and who in people:
            return match.group(0)
        return "@\u200b" + (label.lstrip("@") if label else who)

    return _outside_code(text, lambda part: _PERSON.sub(person, part))


def show_link_targets(text: str) -> str:
    """Links whose text hides their target show it: ``<url|text>`` and ``[text](url)`` become
    ``text (url)`` (just ``url`` when the text is the address). Code is left alone."""

    def shown(label: str, url: str) -> str:
        bare = url.split(":", 1)[1].lstrip("/")
        return url if label.strip() in (url, bare, bare.rstrip("/")) else f"{label} ({url})"

    def links(part: str) -> str:
        part = _SLACK_LINK.sub(lambda m: shown(m.group(2), m.group(1)), part)
        return _MARKDOWN_LINK.sub(lambda m: shown(m.group(1), m.group(2)), part)

    return _outside_code(text, links)


def _outside_code(text: str, change: Callable[[str], str]) -> str:
    """``change`` applied to the parts of ``text`` outside code blocks and inline code."""
    out: list[str] = []
    at = 0
    for match in _CODE.finditer(text):
        out.append(change(text[at : match.start()]))
        out.append(match.group(0))
        at = match.end()
    out.append(change(text[at:]))
    return "".join(out)


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
