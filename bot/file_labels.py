"""How the files people attach are named to the team, and hidden from speaker selection.

A person's message with files carries, beside each image, a text part naming it, and for
each file left out a text part saying which and why: the agents that answer may use the
names. File names are the person's words, though, not the team's: a file called
``planner.png`` must not choose who speaks. So the selector sees each image only as the
``<image>`` the selection prompt writes for it, and each file left out as a placeholder.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from agents import Message, TextPart

__all__ = ["LEFT_OUT_PLACEHOLDER", "WHY", "image_label", "left_out_label", "without_file_names"]

WHY = {
    "not_image": "only images reach the team",
    "too_large": "larger than the images passed on",
    "too_many": "more images than one message passes on",
    "unreadable": "the platform would not hand it over",
    "format": "not a PNG, JPEG, GIF or WebP image",
}
LEFT_OUT_PLACEHOLDER = "[a file was attached; the team does not see it]"

_IMAGE_LABEL = re.compile(r"\[image .*\]", re.DOTALL)
_LEFT_OUT_LABEL = re.compile(r"\[.* attached; (?:" + "|".join(map(re.escape, WHY.values())) + r")\]", re.DOTALL)


def image_label(name: str) -> str:
    """The text part that names an image beside it."""
    return f"[image {name}]"


def left_out_label(name: str, reason: str) -> str:
    """The text part that names a file the team does not get, and why (a key of :data:`WHY`)."""
    return f"[{name} attached; {WHY[reason]}]"


def without_file_names(message: Message) -> Message:
    """``message`` with its file labels gone (images) or neutral (files left out), for the selector.

    A part that the person wrote to look like a label is hidden the same way, which loses
    nothing the choice of speaker needs.
    """
    if not isinstance(message.content, tuple):
        return message
    parts: list[Any] = []
    for part in message.content:
        if not isinstance(part, TextPart):
            parts.append(part)
        elif _LEFT_OUT_LABEL.fullmatch(part.text):
            parts.append(TextPart(LEFT_OUT_PLACEHOLDER))
        elif not _IMAGE_LABEL.fullmatch(part.text):  # an image's label goes: its image shows as <image>
            parts.append(part)
    return dataclasses.replace(message, content=tuple(parts))
