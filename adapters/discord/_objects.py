"""discord.py's rich objects back in the shape of Discord's JSON (the keys the pure translation reads),
and the buttons as discord.py components."""

from __future__ import annotations

import logging

import discord

from ..thread import Button
from .payloads import InteractionPayload, MemberPayload, MessagePayload, UserPayload
from .render import custom_id

__all__ = ["button_view", "interaction_payload", "message_payload", "read_attachment"]

_log = logging.getLogger(__name__)

STYLES = {
    "primary": discord.ButtonStyle.primary,
    "danger": discord.ButtonStyle.danger,
    None: discord.ButtonStyle.secondary,
}


def button_view(buttons: tuple[Button, ...]) -> discord.ui.View | None:
    """The buttons as components. The view is stopped at once: discord.py keeps no state for it,
    since every press is read from its ``custom_id`` (what a restarted bot can do too)."""
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in buttons:
        style = STYLES[button.style]
        view.add_item(discord.ui.Button(label=button.label[:80], custom_id=custom_id(button), style=style))
    view.stop()
    return view


def _user(user: discord.abc.User) -> UserPayload:
    return {"id": str(user.id), "username": user.name, "global_name": user.global_name, "bot": user.bot}


def _member(member: discord.Member) -> MemberPayload:
    return {"nick": member.nick, "roles": [str(r.id) for r in member.roles if not r.is_default()]}


def message_payload(message: discord.Message) -> MessagePayload:
    """The keys of Discord's message JSON that threadcrew reads, from discord.py's Message."""
    payload: MessagePayload = {
        "id": str(message.id),
        "type": message.type.value,
        "channel_id": str(message.channel.id),
        "content": message.content,
        "author": _user(message.author),
        "mentions": [{"id": str(user.id)} for user in message.mentions],
    }
    if isinstance(message.author, discord.Member):
        payload["member"] = _member(message.author)
    if message.webhook_id is not None:
        payload["webhook_id"] = str(message.webhook_id)
    return payload


def interaction_payload(interaction: discord.Interaction) -> InteractionPayload:
    """The keys of Discord's interaction JSON that threadcrew reads, from discord.py's Interaction."""
    user = interaction.user
    payload: InteractionPayload = {
        "id": str(interaction.id),
        "type": interaction.type.value,
        "channel_id": str(interaction.channel_id),
        "data": interaction.data or {},  # type: ignore[typeddict-item]
    }
    if isinstance(user, discord.Member):
        payload["member"] = {**_member(user), "user": _user(user)}
    else:
        payload["user"] = _user(user)
    if interaction.guild_id is not None:
        payload["guild_id"] = str(interaction.guild_id)
    if interaction.message is not None:
        payload["message"] = {"id": str(interaction.message.id)}
    return payload


async def read_attachment(attachment: discord.Attachment) -> bytes | None:
    """The file people attached, from Discord's CDN; None (logged) when Discord will not give it."""
    try:
        return await attachment.read()
    except discord.HTTPException as exc:
        _log.info("could not fetch %s: %s", attachment.filename, exc)
        return None
