"""Slack payloads as thread events (pure functions; the platform looks names up).

A Slack thread is named by the ``ts`` of its first message: ``thread_ts`` for a reply, the
message's own ``ts`` for a message that starts one. A message that mentions the bot, and
every direct message, is a mention; so a message delivered twice, as ``app_mention`` and as
``message``, is the same event with the same message id, whichever comes first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..thread import Attachment, Author, SkippedFile, ThreadEvent, ThreadRef
from .payloads import BlockActions, MessageEvent, SlashCommand
from .render import ACTION_PREFIX, action_name

__all__ = ["HUMAN_SUBTYPES", "Speaker", "action_event", "command_event", "message_event", "speaker_of"]

PLATFORM = "slack"
# Message subtypes that are people talking; edits, deletions, joins and bot posts are not.
HUMAN_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})
_SPACES = re.compile(r"[ \t]{2,}")


@dataclass(frozen=True, slots=True)
class Speaker:
    """Who sent a message: a user id, or a bot (with the user id Slack gives its posts, if any)."""

    user_id: str | None
    is_bot: bool


def speaker_of(event: MessageEvent) -> Speaker:
    return Speaker(event.get("user"), bool(event.get("bot_id") or event.get("subtype") == "bot_message"))


def message_event(
    event: MessageEvent,
    *,
    team_id: str,
    event_id: str,
    bot_user_id: str,
    display_name: str,
    attachments: tuple[Attachment, ...] = (),
    skipped: tuple[SkippedFile, ...] = (),
) -> ThreadEvent | None:
    """An ``app_mention`` or ``message`` event; None for what is not people talking."""
    if event.get("subtype") not in HUMAN_SUBTYPES or not event.get("user"):
        return None
    ts = event["ts"]
    text = event.get("text") or ""
    own = f"<@{bot_user_id}>"
    mentioned = event.get("type") == "app_mention" or own in text
    direct = event.get("channel_type") == "im"
    return ThreadEvent(
        kind="mention" if mentioned or direct else "message",
        thread=ThreadRef(PLATFORM, team_id, event["channel"], event.get("thread_ts") or ts),
        author=Author(event["user"], display_name, is_bot=speaker_of(event).is_bot),
        event_key=event_id,
        text=_SPACES.sub(" ", text.replace(own, "")).strip(),
        message_id=ts,
        attachments=attachments,
        skipped=skipped,
    )


def action_event(body: BlockActions, *, display_name: str) -> ThreadEvent | None:
    """A press on one of threadcrew's buttons (``block_actions``)."""
    actions = [a for a in body.get("actions", ()) if str(a.get("action_id", "")).startswith(ACTION_PREFIX)]
    if not actions:
        return None
    action = actions[0]
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
    thread = str(message.get("thread_ts") or container.get("thread_ts") or message.get("ts") or "")
    user = body["user"]
    return ThreadEvent(
        kind="button",
        thread=ThreadRef(PLATFORM, _team(body), channel, thread),
        author=Author(user["id"], display_name),
        event_key=f"action:{action.get('action_ts') or body.get('trigger_id')}",
        action_id=action_name(action["action_id"]),
        value=action.get("value", ""),
        ref_message_id=message.get("ts") or container.get("message_ts"),
    )


def command_event(body: SlashCommand, *, display_name: str) -> ThreadEvent:
    """``/threadcrew status`` and friends: a command for the channel (no thread)."""
    words = (body.get("text") or "").split()
    return ThreadEvent(
        kind="command",
        thread=ThreadRef(PLATFORM, body["team_id"], body["channel_id"], ""),
        author=Author(body["user_id"], display_name),
        event_key=f"command:{body['trigger_id']}",
        command=words[0].lower() if words else "help",
        text=" ".join(words[1:]),
    )


def _team(body: BlockActions) -> str:
    team = body.get("team") or {}
    return str(team.get("id") or (body.get("user") or {}).get("team_id") or "")
