"""What Discord sends, typed with just the keys threadcrew reads (Discord sends more).

The shapes are Discord's own JSON (a gateway ``MESSAGE_CREATE``, an ``INTERACTION_CREATE``),
so recorded payloads test the translation directly.
"""

from __future__ import annotations

from typing import TypedDict

__all__ = [
    "CommandData",
    "CommandOption",
    "ComponentData",
    "InteractionPayload",
    "MemberPayload",
    "MessagePayload",
    "UserPayload",
]


class UserPayload(TypedDict, total=False):
    id: str
    username: str
    global_name: str | None
    bot: bool


class MemberPayload(TypedDict, total=False):
    nick: str | None
    roles: list[str]
    user: UserPayload  # in interactions


class _Mention(TypedDict, total=False):
    id: str


class AttachmentPayload(TypedDict, total=False):
    id: str
    filename: str
    content_type: str
    size: int
    url: str


class MessagePayload(TypedDict, total=False):
    """A message (``MESSAGE_CREATE``; Discord adds ``member`` in guilds)."""

    id: str
    type: int  # 0 default, 19 reply; the rest are system messages
    channel_id: str
    guild_id: str
    content: str
    author: UserPayload
    member: MemberPayload
    webhook_id: str
    mentions: list[_Mention]
    attachments: list[AttachmentPayload]


class CommandOption(TypedDict, total=False):
    name: str
    type: int  # 1 sub-command, 2 sub-command group, 3 string, 7 channel, ...
    value: str | int | float | bool
    options: list[CommandOption]


class CommandData(TypedDict, total=False):
    name: str
    options: list[CommandOption]


class ComponentData(TypedDict, total=False):
    custom_id: str
    component_type: int


class _MessageId(TypedDict, total=False):
    id: str


class InteractionPayload(TypedDict, total=False):
    """A slash command (type 2) or a button press (type 3)."""

    id: str
    type: int
    guild_id: str
    channel_id: str
    member: MemberPayload
    user: UserPayload
    data: CommandData | ComponentData
    message: _MessageId
