"""Rendering helpers shared by the platforms: splitting at a length limit without breaking code,
defusing mass mentions, keeping agents from pinging people outside the thread, and showing where
links go."""

from __future__ import annotations

import re
import unicodedata
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


def split_markdown(text: str, limit: int, *, length: Callable[[str], int] = len) -> list[str]:
    """Split ``text`` into pieces of at most ``limit``, as ``length`` counts (``len``: code points;
    Discord counts UTF-16 units).

    Pieces end at line breaks where they can; a line longer than a piece can hold is cut, but not
    inside a character and what joins to it (an emoji's skin tone, a ZWJ sequence, an accent) where
    the room allows. A code block cut in two is closed at the end of one piece and opened again,
    with its language, at the start of the next, so every piece renders on its own.

    Raises:
        ValueError: ``limit`` is too small to hold a fence and some code (under 20).
    """
    if limit < 20:
        raise ValueError("limit must be at least 20 characters")
    if length(text) <= limit:
        return [text]
    return _Splitter(limit, length).split(text)


class _Splitter:
    """The state of one split: the piece being filled, and the code block it is in."""

    def __init__(self, limit: int, length: Callable[[str], int] = len) -> None:
        self.limit = limit
        self.length = length
        self.longest_fence = limit // 4  # longer opening lines are shortened when a block reopens
        self.pieces: list[str] = []
        self.current: list[str] = []
        self.size = 0  # length("\n".join(self.current))
        self.fence: str | None = None  # the line that reopens the code block we are in

    def split(self, text: str) -> list[str]:
        for raw in text.split("\n"):
            marker = self._marker(raw)
            after = self.fence if marker is None else (None if self.fence is not None else raw)
            if marker is not None and self.fence is not None and self.current == [self.fence]:
                self.current, self.size, self.fence = [], 0, None  # a block reopened only to close: neither
                continue
            reserve = self.length(_closing(after)) + 1 if after is not None else 0
            # a fence line is never cut: shortened, if need be
            line = raw if marker is None else self._reopening(raw, marker)
            self._add(line, reserve)
            if marker is not None:
                self.fence = None if self.fence is not None else self._reopening(line, marker)
        if self.current and self.current != [self.fence] and "\n".join(self.current).strip():
            self.pieces.append("\n".join(self.current))
        return [piece.strip("\n") for piece in self.pieces]

    def _marker(self, line: str) -> str | None:
        match = _FENCE.match(line)
        if match is None or len(match.group(1)) > self.longest_fence:
            return None
        if self.fence is not None and not match.group(1).startswith(_closing(self.fence)):
            return None  # ``` inside a ~~~~ block is code, not its end
        return match.group(1)

    def _reopening(self, line: str, marker: str) -> str:
        return line if len(line) <= self.longest_fence else line.strip()[: max(len(marker), self.longest_fence)]

    def _add(self, line: str, reserve: int) -> None:
        """Add ``line`` to the piece, or begin the next; a line too long for any piece fills what
        room there is and goes on in the next (cut, with no line break put into it)."""
        while True:
            need = self.length(line) + (1 if self.current else 0)
            if self.size + need + reserve <= self.limit:
                self.current.append(line)
                self.size += need
                return
            fresh = self.length(self.fence) if self.fence is not None else 0
            if self.current and fresh + 1 + self.length(line) + reserve <= self.limit:
                self._flush()  # it fits in the next piece: begin it
                continue
            room = self.limit - reserve - self.size - (1 if self.current else 0)
            if room < 8:  # too little left to be worth a cut here
                self._flush()
                continue
            cut = _cut(line, room, self.length)
            while cut > 8 and _FENCE.match(line[cut:]):
                cut -= 1  # a cut must not make the rest of a line look like a fence
            self.current.append(line[:cut])
            self.size += self.length(line[:cut]) + (1 if len(self.current) > 1 else 0)
            line = line[cut:]
            self._flush()

    def _flush(self) -> None:
        body = "\n".join(self.current)
        if self.fence is not None:
            body += "\n" + _closing(self.fence)
        if self.current != [self.fence] and body.strip():
            self.pieces.append(body)
        self.current = [self.fence] if self.fence is not None else []
        self.size = self.length(self.fence) if self.fence is not None else 0


def _closing(fence: str) -> str:
    match = _FENCE.match(fence)
    return match.group(1) if match else "```"


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
