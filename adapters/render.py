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

    Pieces end at line breaks where they can; a line longer than a piece can hold is cut. A code
    block cut in two is closed at the end of one piece and opened again, with its language, at
    the start of the next, so every piece renders on its own.

    Raises:
        ValueError: ``limit`` is too small to hold a fence and some code (under 20).
    """
    if limit < 20:
        raise ValueError("limit must be at least 20 characters")
    if len(text) <= limit:
        return [text]
    return _Splitter(limit).split(text)


class _Splitter:
    """The state of one split: the piece being filled, and the code block it is in."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.longest_fence = limit // 4  # longer opening lines are shortened when a block reopens
        self.pieces: list[str] = []
        self.current: list[str] = []
        self.size = 0  # len("\n".join(self.current))
        self.fence: str | None = None  # the line that reopens the code block we are in

    def split(self, text: str) -> list[str]:
        for raw in text.split("\n"):
            marker = self._marker(raw)
            after = self.fence if marker is None else (None if self.fence is not None else raw)
            if marker is not None and self.fence is not None and self.current == [self.fence]:
                self.current, self.size, self.fence = [], 0, None  # a block reopened only to close: neither
                continue
            reserve = len(_closing(after)) + 1 if after is not None else 0
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
            need = len(line) + (1 if self.current else 0)
            if self.size + need + reserve <= self.limit:
                self.current.append(line)
                self.size += need
                return
            fresh = len(self.fence) if self.fence is not None else 0
            if self.current and fresh + 1 + len(line) + reserve <= self.limit:
                self._flush()  # it fits in the next piece: begin it
                continue
            room = self.limit - reserve - self.size - (1 if self.current else 0)
            if room < 8:  # too little left to be worth a cut here
                self._flush()
                continue
            while room > 8 and _FENCE.match(line[room:]):
                room -= 1  # a cut must not make the rest of a line look like a fence
            self.current.append(line[:room])
            self.size += room + (1 if len(self.current) > 1 else 0)
            line = line[room:]
            self._flush()

    def _flush(self) -> None:
        body = "\n".join(self.current)
        if self.fence is not None:
            body += "\n" + _closing(self.fence)
        if self.current != [self.fence] and body.strip():
            self.pieces.append(body)
        self.current = [self.fence] if self.fence is not None else []
        self.size = len(self.fence) if self.fence is not None else 0


def _closing(fence: str) -> str:
    match = _FENCE.match(fence)
    return match.group(1) if match else "```"
