"""Stored records as the console shows them: plain values for the templates, no markup.

Everything here is text; the templates escape it (Jinja2's autoescape), so nothing an agent
wrote is ever rendered as HTML.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from storage import MessageRecord

__all__ = ["INLINE_IMAGES", "FileView", "MessageView", "StoredFile", "message_view", "stored_file"]

INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})  # never SVG: it can hold script


@dataclass(frozen=True, slots=True)
class FileView:
    index: int
    name: str
    mime_type: str
    size: int

    @property
    def is_image(self) -> bool:
        return self.mime_type in INLINE_IMAGES


@dataclass(frozen=True, slots=True)
class ToolCallView:
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class MessageView:
    """One message of a transcript.

    ``kind`` is ``text``, ``human``, ``note`` (threadcrew's own), ``tool_call``, ``tool_result``
    or ``code`` (a code result, with ``exit_code`` and ``output``).
    """

    id: int
    seq: int
    author: str
    author_kind: str
    author_id: str
    kind: str
    text: str
    calls: tuple[ToolCallView, ...]
    results: tuple[str, ...]
    exit_code: int | None
    output: str
    files: tuple[FileView, ...]
    buttons: tuple[str, ...]
    created_at: str
    posted: bool


def message_view(record: MessageRecord) -> MessageView:
    attachments: dict[str, Any] = record.attachments if isinstance(record.attachments, dict) else {}
    code = attachments.get("code")
    calls = tuple(
        ToolCallView(str(c["function"]["name"]), _pretty(c["function"].get("arguments") or "{}"))
        for c in record.tool_calls or ()
    )
    results = tuple(str(r.get("content", "")) for r in record.tool_responses or ())
    if code is not None:
        kind = "code"
    elif results:
        kind = "tool_result"
    elif calls:
        kind = "tool_call"
    elif record.author_kind == "system":
        kind = "note"
    elif record.author_kind == "human":
        kind = "human"
    else:
        kind = "text"
    files = tuple(
        FileView(i, str(f.get("name", "file")), str(f.get("mime_type", "")), int(f.get("size", 0)))
        for i, f in enumerate(attachments.get("files", ()))
    )
    return MessageView(
        id=record.id,
        seq=record.seq,
        author=record.name or record.author_id or record.role,
        author_kind=record.author_kind,
        author_id=record.author_id or "",
        kind=kind,
        text=record.content or "",
        calls=calls,
        results=results,
        exit_code=code.get("exit_code") if code is not None else None,
        output=str(code.get("output", "")) if code is not None else "",
        files=files,
        buttons=tuple(str(b.get("label", "")) for b in attachments.get("buttons", ())),
        created_at=record.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        posted=record.posted_at is not None,
    )


@dataclass(frozen=True, slots=True)
class StoredFile:
    name: str
    mime_type: str
    data: bytes


def stored_file(record: MessageRecord, index: int) -> StoredFile | None:
    """The message's ``index``-th file, or None."""
    attachments = record.attachments if isinstance(record.attachments, dict) else {}
    files = attachments.get("files", [])
    if not 0 <= index < len(files):
        return None
    found = files[index]
    return StoredFile(str(found.get("name", "file")), str(found.get("mime_type", "")), base64.b64decode(found["data"]))


def _pretty(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments), indent=2)
    except ValueError:
        return arguments
