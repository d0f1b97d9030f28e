"""An OutboundMessage as Discord messages: 2,000-character pieces, a hidden key, buttons, files.

Discord refuses content over 2,000 characters. We count UTF-16 code units, which is never less
than what Discord counts, and split with the shared splitter (fences closed and reopened, no
character cut from what joins to it). The first piece carries threadcrew's key as invisible
characters at its end, so ``find_posted`` can find the message in the thread's history after a
crash (webhook posts have no nonce to look up).
"""

from __future__ import annotations

import re

from ..render import defuse_mass_mentions, split_markdown
from ..thread import Attachment, Button, OutboundMessage, Persona

__all__ = [
    "COMMAND_OPTIONS",
    "MESSAGE_LIMIT",
    "SCHEDULE_ACTIONS",
    "custom_id",
    "find_key",
    "key_marker",
    "message_pieces",
    "named",
    "parse_custom_id",
    "slash_command",
    "split_message",
    "thread_name",
    "utf16_len",
    "within_upload_limit",
]

MESSAGE_LIMIT = 2000
KEY_ROOM = 120  # what the hidden key may take at the end of the first piece
CUSTOM_ID_LIMIT = 100
BUTTON_LABEL_LIMIT = 80
THREAD_NAME_LIMIT = 100
CUSTOM_PREFIX = "tc:"
_MARK = "\u2063"  # INVISIBLE SEPARATOR: the key starts here
_DIGITS = "\u200b\u200c\u2060\u2062"  # zero-width characters as base-4 digits (no joiner among them)
_KEY = re.compile(f"{_MARK}([{_DIGITS}]+)")
_MARKUP = re.compile(r"<[@#][!&]?\d+>|[*_~`>#|]+")


def utf16_len(text: str) -> int:
    """How long ``text`` is in UTF-16 code units (an emoji outside the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


def key_marker(key: str) -> str:
    """``key`` as invisible characters (four per byte), after an invisible separator."""
    if not key:
        return ""
    return _MARK + "".join(_DIGITS[(byte >> shift) & 3] for byte in key.encode() for shift in (6, 4, 2, 0))


def find_key(content: str) -> str | None:
    """The key hidden in ``content`` by :func:`key_marker`, or None."""
    found = _KEY.search(content)
    if found is None or len(found.group(1)) % 4:
        return None
    digits = [_DIGITS.index(c) for c in found.group(1)]
    data = bytes((a << 6) | (b << 4) | (c << 2) | d for a, b, c, d in zip(*[iter(digits)] * 4, strict=True))
    return data.decode(errors="replace")


def named(persona: Persona, text: str) -> str:
    """``text`` under the bot's own name, with the persona's in bold (no webhook to post through)."""
    return f"**{persona.label}:** {text}"


def message_pieces(message: OutboundMessage, *, personas: bool, notes: tuple[str, ...] = ()) -> list[str]:
    """The contents of the messages that carry ``message``: each within Discord's limit, the first
    with the hidden key, the last with ``notes`` (files that could not be attached)."""
    text = defuse_mass_mentions(message.text)
    if not personas:
        text = named(message.persona, text)
    if notes:
        text += "\n\n" + "\n".join(f"_{note}_" for note in notes)
    pieces = split_message(text, MESSAGE_LIMIT - KEY_ROOM) if text.strip() else [""]
    pieces[0] += key_marker(message.key)
    return pieces


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """``text`` in pieces Discord takes (at most ``limit`` UTF-16 units each, fences kept whole)."""
    return split_markdown(text, limit, length=utf16_len)


def within_upload_limit(files: tuple[Attachment, ...], limit: int) -> tuple[list[Attachment], tuple[str, ...]]:
    """The files that Discord takes, and a note for each that is too large."""
    kept, notes = [], []
    for f in files:
        if len(f.data) <= limit:
            kept.append(f)
        else:
            notes.append(
                f"{f.name} is too large to attach here ({len(f.data) / 1e6:.1f} MB; Discord takes "
                f"{limit / 1e6:.0f} MB): it stays in the conversation's files"
            )
    return kept, tuple(notes)


def custom_id(button: Button) -> str:
    """The component's ``custom_id``: ``tc:ACTION:VALUE`` (what a press after a restart is read from).

    Raises:
        ValueError: it would be longer than Discord's 100 characters.
    """
    found = f"{CUSTOM_PREFIX}{button.action_id}:{button.value}"
    if len(found) > CUSTOM_ID_LIMIT or ":" in button.action_id:
        raise ValueError(f"button {button.label!r}: action and value must fit 100 characters with no ':' in the action")
    return found


def parse_custom_id(found: str) -> tuple[str, str] | None:
    """``tc:approve:17`` -> ``("approve", "17")``; None for a component that is not threadcrew's."""
    if not found.startswith(CUSTOM_PREFIX):
        return None
    action, sep, value = found.removeprefix(CUSTOM_PREFIX).partition(":")
    return (action, value) if sep and action else None


def thread_name(text: str) -> str:
    """A thread's name from a task: its first line without markup, 1-100 characters."""
    line = next((line for line in text.splitlines() if line.strip()), "")
    plain = " ".join(_MARKUP.sub(" ", line).split())
    if len(plain) > THREAD_NAME_LIMIT:
        plain = plain[: THREAD_NAME_LIMIT - 1].rstrip() + "…"
    return plain or "threadcrew"


COMMAND_OPTIONS = {
    "status": "What runs in this channel (or thread)",
    "stop": "Stop the runs here (or the one in the thread you name)",
    "teams": "The teams this bot serves",
    "schedules": "Scheduled runs in this channel",
    "schedule": "Add, list, pause, resume or delete scheduled runs",
}
_STRING, _CHANNEL, _SUB_COMMAND, _GROUP = 3, 7, 1, 2
_NAME = {"type": _STRING, "name": "name", "description": "The schedule's name (letters, digits, - _ .)"}
SCHEDULE_ACTIONS: dict[str, tuple[str, list[dict[str, object]]]] = {
    "add": (
        "Run a team on a clock, in a new thread of a channel",
        [
            {
                "type": _STRING,
                "name": "when",
                "description": "A cron expression ('0 9 * * 1-5': 09:00 Monday to Friday) or 'every 30m'",
                "required": True,
            },
            {**_NAME, "required": True},
            {"type": _STRING, "name": "message", "description": "What each run starts with", "required": True},
            {
                "type": _CHANNEL,
                "name": "channel",
                "description": "Where the runs open their threads (default: this channel)",
                "channel_types": [0, 5],
            },
            {"type": _STRING, "name": "timezone", "description": "The cron expression's time zone (Europe/Paris)"},
            {"type": _STRING, "name": "team", "description": "The team (default: this channel's)"},
        ],
    ),
    "list": ("The scheduled runs in this channel", []),
    "pause": ("Pause a schedule until resumed", [{**_NAME, "required": True}]),
    "resume": ("Resume a paused schedule", [{**_NAME, "required": True}]),
    "delete": ("Delete a schedule", [{**_NAME, "required": True}]),
}


def slash_command(name: str) -> dict[str, object]:
    """The ``/threadcrew`` command with its sub-commands (``schedule`` a group of its own), as
    Discord's bulk overwrite takes it."""
    options: list[dict[str, object]] = []
    for sub, about in COMMAND_OPTIONS.items():
        option: dict[str, object] = {"type": _SUB_COMMAND, "name": sub, "description": about}
        if sub == "stop":
            option["options"] = [{"type": _STRING, "name": "thread", "description": "A thread's id", "required": False}]
        if sub == "schedule":
            option["type"] = _GROUP
            option["options"] = [
                {"type": _SUB_COMMAND, "name": action, "description": text, "options": actions}
                for action, (text, actions) in SCHEDULE_ACTIONS.items()
            ]
        options.append(option)
    return {
        "name": name,
        "type": 1,
        "description": "threadcrew's runs in this channel",
        "options": options,
        "contexts": [0],  # in servers only
    }
