"""Images in the messages of a model that cannot see them.

A config entry says ``"vision": False`` for a model that takes text only: before it is asked,
every message whose content is a list of parts becomes one string, its text parts joined and
each image replaced by :data:`NO_VISION_NOTE`, so the model knows an image was there without
receiving it (many text-only servers refuse list content outright). ``"vision": True``, or no
``vision`` key (AutoGen's behaviour), sends images as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["NO_VISION_NOTE", "without_images"]

NO_VISION_NOTE = "[an image is attached here; this model cannot see images]"


def without_images(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``messages`` (chat-completion wire dicts) with list content flattened to text, images as notes.

    Messages without list content are the same objects (never mutated), so nothing is copied
    for a text-only conversation.
    """
    return [_flattened(m) if isinstance(m.get("content"), list) else m for m in messages]


def _flattened(message: dict[str, Any]) -> dict[str, Any]:
    pieces = []
    for part in message["content"]:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text":
            pieces.append(str(part.get("text", "")))
        elif kind == "image_url":
            pieces.append(NO_VISION_NOTE)
        else:  # audio, files: nothing a text-only model can take either
            pieces.append(f"[a content part ({kind}) is attached here; this model cannot read it]")
    return {**message, "content": "\n".join(pieces)}
