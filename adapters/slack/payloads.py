"""What Slack sends, typed with just the keys threadcrew reads (Slack sends more)."""

from __future__ import annotations

from typing import TypedDict

__all__ = [
    "Action",
    "BlockActions",
    "Container",
    "EventCallback",
    "MessageEvent",
    "SharedFile",
    "SlashCommand",
]


class SharedFile(TypedDict, total=False):
    """A file shared with a message (``files`` of a ``file_share`` message)."""

    id: str
    name: str
    title: str
    mimetype: str
    size: int
    url_private: str
    url_private_download: str


class MessageEvent(TypedDict, total=False):
    """An ``app_mention`` or ``message`` event."""

    type: str
    subtype: str
    user: str
    bot_id: str
    text: str
    ts: str
    thread_ts: str
    channel: str
    channel_type: str  # "channel", "group", "im", "mpim"
    team: str
    files: list[SharedFile]


class EventCallback(TypedDict, total=False):
    """The Events API envelope around an event."""

    team_id: str
    event_id: str
    event: MessageEvent


class _Id(TypedDict, total=False):
    id: str
    team_id: str


class Container(TypedDict, total=False):
    message_ts: str
    channel_id: str
    thread_ts: str


class _Message(TypedDict, total=False):
    ts: str
    thread_ts: str


class Action(TypedDict, total=False):
    action_id: str
    value: str
    action_ts: str


class BlockActions(TypedDict, total=False):
    """A button press (``block_actions``)."""

    user: _Id
    team: _Id
    channel: _Id
    container: Container
    message: _Message
    actions: list[Action]
    trigger_id: str


class SlashCommand(TypedDict, total=False):
    """A slash command, as Slack posts its fields."""

    team_id: str
    channel_id: str
    user_id: str
    command: str
    text: str
    trigger_id: str
