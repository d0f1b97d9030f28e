"""An OutboundMessage as Slack's ``chat.postMessage`` arguments.

The text goes in a ``markdown`` block (Slack renders standard markdown there, code blocks
included). Slack takes at most 12,000 characters of markdown blocks per message; a longer
text is shown up to a clean break and goes whole as a file in the thread. Buttons become
``actions`` blocks (at most 25 buttons each). Each agent posts under its persona's name and
icon; a workspace that did not grant ``chat:write.customize`` gets the name in bold instead.
The name goes in before the text is measured and cut, so every limit holds for what is sent.
"""

from __future__ import annotations

from typing import Any

from ..render import defuse_mass_mentions, split_markdown
from ..thread import Attachment, Button, OutboundMessage, Persona

__all__ = [
    "ACTION_PREFIX",
    "MARKDOWN_LIMIT",
    "action_name",
    "message_files",
    "message_payload",
    "named",
    "persona_fields",
    "update_payload",
]

MARKDOWN_LIMIT = 12_000  # the markdown blocks of one message, together
SHOWN_WHEN_LONG = 3_000  # what a message too long for one post shows before its file
NOTIFICATION_LIMIT = 300  # the plain ``text``: notifications and screen readers
BUTTONS_PER_BLOCK = 25
BUTTON_LABEL_LIMIT = 75
BUTTON_VALUE_LIMIT = 2_000
BLOCKS_LIMIT = 50
NAME_LIMIT = 80  # a persona's name, as a username or in bold
ACTION_PREFIX = "tc."
METADATA_EVENT = "threadcrew_post"


def message_payload(message: OutboundMessage, *, personas: bool = True) -> dict[str, Any]:
    """The keyword arguments of ``chat_postMessage`` (without channel and thread) for ``message``."""
    text = _shown_text(message, personas=personas)
    payload: dict[str, Any] = {
        "text": _notification(message.persona.label, text),
        "blocks": [{"type": "markdown", "text": text}, *button_blocks(message.buttons)],
        "unfurl_links": False,
        "unfurl_media": False,
    }
    if personas:
        payload.update(persona_fields(message.persona))
    if message.key:
        payload["metadata"] = {"event_type": METADATA_EVENT, "event_payload": {"key": message.key}}
    return payload


def persona_fields(persona: Persona) -> dict[str, str]:
    """The name and icon a message is posted under (needs the ``chat:write.customize`` scope)."""
    fields = {"username": persona.label[:NAME_LIMIT]}
    if persona.icon_url:
        fields["icon_url"] = persona.icon_url
    elif persona.icon_emoji:
        fields["icon_emoji"] = persona.icon_emoji
    return fields


def named(persona: Persona, text: str) -> str:
    """``text`` under the bot's own name, with the persona's in bold (no customize scope)."""
    return f"**{persona.label[:NAME_LIMIT]}:** {text}"


def update_payload(message: OutboundMessage) -> dict[str, Any]:
    """The keyword arguments of ``chat_update`` (without channel and ts)."""
    text = _shown_text(message)
    return {
        "text": _notification(message.persona.label, text),
        "blocks": [{"type": "markdown", "text": text}, *button_blocks(message.buttons)],
    }


def message_files(message: OutboundMessage, *, personas: bool = True) -> list[Attachment]:
    """The files to upload with ``message``: its attachments, and its whole text when too long
    (``personas``: as in :func:`message_payload`, which decides the same way)."""
    files = list(message.attachments)
    text = defuse_mass_mentions(message.text)
    if len(_full_text(message, personas=personas)) > MARKDOWN_LIMIT:
        name = f"{message.persona.name or 'message'}-{message.key or 'text'}.md".replace("/", "-")
        files.append(Attachment(name, "text/markdown", text.encode()))
    return files


def button_blocks(buttons: tuple[Button, ...]) -> list[dict[str, Any]]:
    """``actions`` blocks for ``buttons``: as many as fit next to the text block in one message."""
    blocks = []
    buttons = buttons[: (BLOCKS_LIMIT - 1) * BUTTONS_PER_BLOCK]
    for start in range(0, len(buttons), BUTTONS_PER_BLOCK):
        elements = []
        for index, button in enumerate(buttons[start : start + BUTTONS_PER_BLOCK], start):
            element: dict[str, Any] = {
                "type": "button",
                "text": {"type": "plain_text", "text": button.label[:BUTTON_LABEL_LIMIT]},
                # unique within the message; the index goes, the action stays (see action_name)
                "action_id": f"{ACTION_PREFIX}{button.action_id}.{index}",
                "value": button.value[:BUTTON_VALUE_LIMIT],
            }
            if button.style:
                element["style"] = button.style
            elements.append(element)
        blocks.append({"type": "actions", "elements": elements})
    return blocks


def action_name(action_id: str) -> str:
    """``tc.approve.0`` -> ``approve``."""
    return action_id.removeprefix(ACTION_PREFIX).rpartition(".")[0] or action_id


def _full_text(message: OutboundMessage, *, personas: bool) -> str:
    text = defuse_mass_mentions(message.text) or " "
    return text if personas else named(message.persona, text)


def _shown_text(message: OutboundMessage, *, personas: bool = True) -> str:
    """What the markdown block shows: the whole text (with the name first, without personas), or
    its beginning and a word that the rest is in the file."""
    text = _full_text(message, personas=personas)
    if len(text) <= MARKDOWN_LIMIT:
        return text
    shown = split_markdown(text, SHOWN_WHEN_LONG)[0]
    return f"{shown}\n\n_(the whole message, {len(text):,} characters, is in the file below)_"


def _notification(label: str, text: str) -> str:
    plain = " ".join(text.split())
    if len(plain) > NOTIFICATION_LIMIT:
        plain = plain[: NOTIFICATION_LIMIT - 1] + "…"
    return f"{label}: {plain}"
