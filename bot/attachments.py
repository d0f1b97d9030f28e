"""What people attach, for the team: images as content parts, the other files as notes.

A person's message with images becomes AutoGen's multimodal content (a ``text`` part with
their words, then per image a ``text`` part naming it and an ``image_url`` part with the
image as a ``data:`` URI), so the models that see (``vision: true`` in the team file) get the
images and the others a note in their place (see ``agents/llm/vision.py``). Only the formats
vision models take (PNG, JPEG, GIF, WebP, told by the bytes, not by the name) go as images;
every file left out is named in the content, and in a note in the thread, with why.
"""

from __future__ import annotations

import base64
from typing import Any

from adapters import SkippedFile, ThreadEvent
from agents import HumanReply
from storage import NewMessage

from .file_labels import WHY, image_label, left_out_label
from .rendering import note
from .teams import Team

__all__ = ["image_type", "left_out", "people_said"]

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def image_type(data: bytes) -> str | None:
    """The image type vision models take that ``data`` is (by its first bytes), or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for signature, kind in _SIGNATURES if data.startswith(signature)), None)


def people_said(event: ThreadEvent) -> HumanReply:
    """What a person's message says to the team: its text, or content parts when files came with it."""
    text = event.text.strip()
    if not event.attachments and not event.skipped:
        return text
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    for image in event.attachments:
        kind = image_type(image.data)
        if kind is None:
            parts.append(_text(left_out_label(image.name, "format")))
            continue
        parts.append(_text(image_label(image.name)))
        url = f"data:{kind};base64,{base64.b64encode(image.data).decode('ascii')}"
        parts.append({"type": "image_url", "image_url": {"url": url}})
    parts += [_text(left_out_label(f.name, f.reason)) for f in event.skipped]
    return parts


def left_out(event: ThreadEvent, team: Team) -> list[NewMessage]:
    """The note for the thread on the files of ``event`` that ``team`` will not see (none when it sees them all)."""
    lines = [f"{f.name}: {WHY[f.reason]}{_size(f)}" for f in event.skipped]
    lines += [f"{a.name}: {WHY['format']}" for a in event.attachments if image_type(a.data) is None]
    images = [a.name for a in event.attachments if image_type(a.data) is not None]
    if images and not team.sees_images:
        lines.append(f"{', '.join(images)}: none of this team's models can see images (see vision: in the team file)")
    if not lines:
        return []
    return [note("The team does not see every file you attached:\n" + "\n".join(f"- {line}" for line in lines))]


def _size(file: SkippedFile) -> str:
    return f" ({file.size / 1024 / 1024:.1f} MB)" if file.reason == "too_large" else ""


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}
