"""Discord payloads as thread events (pure functions; the platform knows where a channel sits).

A Discord thread is a channel of its own, under a parent channel; a thread started on a message
has that message's id. So a message that mentions the bot in a channel becomes the start of a
thread named by its own id, and every message inside a thread belongs to that thread.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import cast

from ..thread import Attachment, Author, SkippedFile, ThreadEvent, ThreadRef
from .payloads import (
    CommandData,
    CommandOption,
    ComponentData,
    InteractionPayload,
    MemberPayload,
    MessagePayload,
    UserPayload,
)
from .render import parse_custom_id

__all__ = ["Place", "author_of", "button_event", "command_event", "message_event", "schedule_words"]

PLATFORM = "discord"
HUMAN_TYPES = frozenset({0, 19})  # a message, a reply; not joins, pins or "thread created"
_SPACES = re.compile(r"[ \t]{2,}")


@dataclass(frozen=True, slots=True)
class Place:
    """Where a channel sits: its guild, the parent channel, and the thread (when it is one)."""

    guild_id: str
    channel_id: str
    thread_id: str | None = None

    def thread(self, starter: str = "") -> ThreadRef:
        """The thread here; in a plain channel, the thread that ``starter`` (a message id) starts."""
        return ThreadRef(PLATFORM, self.guild_id, self.channel_id, self.thread_id or starter)


def author_of(user: UserPayload, member: MemberPayload | None, *, webhook: bool = False) -> Author:
    """Who wrote: their name in the guild, their role ids; webhooks count as bots."""
    name = (member or {}).get("nick") or user.get("global_name") or user.get("username") or user.get("id", "someone")
    return Author(
        str(user.get("id", "")),
        str(name),
        is_bot=bool(user.get("bot")) or webhook,
        roles=tuple(str(r) for r in (member or {}).get("roles", ())),
    )


def mentions_bot(message: MessagePayload, bot_user_id: str) -> bool:
    return any(m.get("id") == bot_user_id for m in message.get("mentions", ()))


def message_event(
    message: MessagePayload,
    place: Place,
    *,
    bot_user_id: str,
    attachments: tuple[Attachment, ...] = (),
    skipped: tuple[SkippedFile, ...] = (),
) -> ThreadEvent | None:
    """A message: a mention of the bot, or a message (in a thread, or in a channel for a trigger word).

    None for what is not people talking (system messages, messages without an author).
    """
    if message.get("type", 0) not in HUMAN_TYPES or "author" not in message:
        return None
    own = re.compile(rf"<@!?{re.escape(bot_user_id)}>")
    text = message.get("content") or ""
    return ThreadEvent(
        kind="mention" if mentions_bot(message, bot_user_id) else "message",
        thread=place.thread(message["id"]),
        author=author_of(message["author"], message.get("member"), webhook=bool(message.get("webhook_id"))),
        event_key=f"message:{message['id']}",
        text=_SPACES.sub(" ", own.sub("", text)).strip(),
        message_id=message["id"],
        attachments=attachments,
        skipped=skipped,
    )


def _person(interaction: InteractionPayload) -> Author:
    member = interaction.get("member")
    user = (member or {}).get("user") or interaction.get("user") or {}
    return author_of(user, member)


def button_event(interaction: InteractionPayload, place: Place) -> ThreadEvent | None:
    """A press on one of threadcrew's buttons; None for other components."""
    data = cast(ComponentData, interaction.get("data") or {})
    parsed = parse_custom_id(data.get("custom_id", ""))
    if parsed is None:
        return None
    action, value = parsed
    message = interaction.get("message") or {}
    return ThreadEvent(
        kind="button",
        thread=place.thread(),
        author=_person(interaction),
        event_key=f"interaction:{interaction['id']}",
        action_id=action,
        value=value,
        ref_message_id=message.get("id"),
    )


def command_event(interaction: InteractionPayload, place: Place) -> ThreadEvent:
    """``/threadcrew status`` and friends: for the thread it was typed in, or the channel (no thread).

    ``/threadcrew schedule add`` (a sub-command group) becomes the ``schedule`` command with the
    words people type on Slack (see :func:`schedule_words`).
    """
    data = cast(CommandData, interaction.get("data") or {})
    options = data.get("options") or []
    sub = options[0] if options else None
    command = str(sub["name"]) if sub is not None and sub.get("type") in (1, 2) else "help"
    if sub is not None and sub.get("type") == 2:
        text = schedule_words((sub.get("options") or [{}])[0])
    else:
        text = " ".join(str(o["value"]) for o in (sub or {}).get("options", ()) if "value" in o)
    return ThreadEvent(
        kind="command",
        thread=place.thread(),
        author=_person(interaction),
        event_key=f"interaction:{interaction['id']}",
        command=command,
        text=text,
    )


def schedule_words(action: CommandOption) -> str:
    """``/threadcrew schedule ACTION`` with its options, as the words of the channel command
    (``add "0 9 * * 1-5" tz=Europe/Paris standup 200 Summarise yesterday``), quoted so that
    every option stays one word."""
    given = {str(o.get("name")): str(o["value"]) for o in action.get("options", ()) if "value" in o}
    name = str(action.get("name") or "list")
    if name != "add":
        return shlex.join([name, *([given["name"]] if "name" in given else [])])
    words = [name, given.get("when", "")]
    words += [f"tz={given['timezone']}"] if "timezone" in given else []
    words += [f"team={given['team']}"] if "team" in given else []
    words += [given.get("name", ""), given.get("channel", "here"), given.get("message", "")]
    return shlex.join(words)
