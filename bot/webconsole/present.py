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

__all__ = [
    "INLINE_IMAGES",
    "FileView",
    "MessageView",
    "SelectionView",
    "StoredFile",
    "UsageView",
    "message_view",
    "stored_file",
    "totals",
]

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
class UsageView:
    """Tokens and cost of the model calls behind a message (or a choice of speaker)."""

    models: str
    prompt_tokens: int
    completion_tokens: int
    cost: float

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class PromptLine:
    role: str
    content: str


_HOW = {
    "model": "a model chose",
    "named": "a person's message named",
    "person": "a person picked",
    "round_robin": "in turn:",
    "random": "at random:",
    "function": "the team's selection function chose",
    "only": "the only one who could speak:",
}


@dataclass(frozen=True, slots=True)
class SelectionView:
    """How a message's author was chosen; for a model, its prompt (the conversation's messages
    counted, not repeated), its answers, and what it cost."""

    how: str
    prompt: tuple[PromptLine, ...]
    history: int
    answers: tuple[str, ...]
    chosen: str
    usage: UsageView | None

    @property
    def by_model(self) -> bool:
        return self.how == "model"

    @property
    def said(self) -> str:
        """The choice in words: "in turn: coder"."""
        return f"{_HOW.get(self.how, self.how)} {self.chosen}"


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
    usage: UsageView | None = None
    selection: SelectionView | None = None


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
        usage=_usage_view(record.model_usage),
        selection=_selection_view(record.speaker_selection),
    )


def totals(views: list[MessageView]) -> tuple[UsageView, UsageView]:
    """What the messages' own model calls add up to, and their speakers' selections."""
    replies = [v.usage for v in views if v.usage is not None]
    choices = [v.selection.usage for v in views if v.selection is not None and v.selection.usage is not None]
    return _sum(replies), _sum(choices)


def _sum(usages: list[UsageView]) -> UsageView:
    models = ", ".join(sorted({m for u in usages for m in u.models.split(", ") if m}))
    return UsageView(
        models,
        sum(u.prompt_tokens for u in usages),
        sum(u.completion_tokens for u in usages),
        sum(u.cost for u in usages),
    )


def _usage_view(data: Any) -> UsageView | None:
    if not isinstance(data, dict):
        return None
    models = ", ".join(str(m) for m in data.get("models", ()))
    return UsageView(
        models, int(data.get("prompt_tokens", 0)), int(data.get("completion_tokens", 0)), float(data.get("cost", 0.0))
    )


def _selection_view(data: Any) -> SelectionView | None:
    if not isinstance(data, dict):
        return None
    prompt = tuple(
        PromptLine(
            str(m.get("role", "")), m["content"] if isinstance(m.get("content"), str) else json.dumps(m.get("content"))
        )
        for m in data.get("prompt", ())
        if isinstance(m, dict)
    )
    return SelectionView(
        str(data.get("how", "model")),
        prompt,
        int(data.get("history", 0)),
        tuple(str(a) for a in data.get("answers", ())),
        str(data.get("chosen", "")),
        _usage_view(data.get("usage")),
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
