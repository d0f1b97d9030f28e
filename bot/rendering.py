"""From the conversation to the thread: what a stored message looks like when it is posted.

A conversation message becomes one stored message (``to_new_message``): the agent's words,
its tool calls and results, code output, and files as attachments. Posting it builds an
OutboundMessage (``to_outbound``) in the agent's persona: mass mentions defused, mentions of
people the team's policy does not allow made plain, and every link showing its target.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Collection
from typing import Any

from adapters import (
    Attachment,
    Button,
    MentionPolicy,
    OutboundMessage,
    Persona,
    defuse_mass_mentions,
    limit_mentions,
    show_link_targets,
)
from agents import HumanInputWait, StepMessage, TextPart
from storage import MessageRecord, NewMessage

from .state import ThreadState
from .teams import Team

__all__ = [
    "NOTE",
    "audience",
    "button_json",
    "message_text",
    "note",
    "people_message",
    "to_new_message",
    "to_outbound",
    "wait_prompt",
]

NOTE = "threadcrew"
_MAX_FILE = 8 * 1024 * 1024


def to_new_message(added: StepMessage) -> NewMessage:
    """An agent's message as it is stored (and later posted); a code result keeps its exit code,
    its output and its files; a reply what its model calls cost and how a model chose its speaker."""
    message = added.message
    files = [
        {"name": f.name, "mime_type": f.mime_type, "size": f.size, "data": base64.b64encode(f.data).decode()}
        for f in added.files
        if f.data is not None and f.size <= _MAX_FILE
    ]
    attachments: dict[str, Any] = {"files": files} if files else {}
    if added.kind == "code_result":
        attachments["code"] = {"exit_code": added.exit_code, "output": added.output}
    return NewMessage(
        role=message.role,
        content=message.text if message.content is not None else None,
        name=added.author,
        author_kind="agent",
        author_id=added.author,
        tool_calls=[c.to_dict() for c in message.tool_calls] or None,
        tool_responses=[r.to_dict() for r in message.tool_responses] or None,
        attachments=attachments or None,
        model_usage=added.usage.to_json() if added.usage is not None else None,
        speaker_selection=added.selection.to_json() if added.selection is not None else None,
    )


def people_message(added: StepMessage, author_id: str, platform_message_id: str | None, now: dt.datetime) -> NewMessage:
    """A person's words (passed on by the people's agent): stored as already posted (they are in the thread)."""
    content = added.message.content
    parts = content if isinstance(content, tuple) else ()
    return NewMessage(
        role="user",
        # With files: the words and the files' labels (the images themselves stay in the run's state).
        content="\n".join(p.text for p in parts if isinstance(p, TextPart)) if parts else added.message.text,
        name=added.author,
        author_kind="human",
        author_id=author_id,
        platform_message_id=platform_message_id or "",
        posted_at=now,
    )


def note(text: str, buttons: list[Button] | None = None) -> NewMessage:
    """A message from threadcrew itself (a question's buttons, a stop, a budget)."""
    attachments = {"buttons": [button_json(b) for b in buttons]} if buttons else None
    return NewMessage(role="assistant", content=text, name=NOTE, author_kind="system", attachments=attachments)


def wait_prompt(waiting: HumanInputWait, approvers_named: bool) -> NewMessage:
    """The message that asks the thread what a wait waits for, with its buttons."""
    if waiting.kind == "approval":
        who = "someone allowed to approve" if approvers_named else "someone"
        return note(
            f"{waiting.prompt}\n\nWaiting for {who} to approve.",
            [Button("Approve", "approve", "approve", "primary"), Button("Reject", "reject", "reject", "danger")],
        )
    if waiting.kind == "speaker":
        return note("Who should speak next?", [Button(c, "choose", c) for c in waiting.choices])
    return note(
        "The team is waiting for you: reply in this thread, or let them go on.",
        [Button("Continue", "continue", "", "primary"), Button("Stop", "stop", "stop", "danger")],
    )


def button_json(button: Button) -> dict[str, Any]:
    return {"label": button.label, "action_id": button.action_id, "value": button.value, "style": button.style}


def to_outbound(
    record: MessageRecord, persona: Persona, mentions: MentionPolicy = "thread", people: Collection[str] = ()
) -> OutboundMessage:
    """The post for a stored message.

    Args:
        record: the stored message.
        persona: whom it is posted as.
        mentions: the team's policy: whom agent text may ping (``none``, ``thread``, ``any``).
        people: the ids of the people in the thread (whom ``thread`` lets it ping).
    """
    attachments: dict[str, Any] = record.attachments or {}
    files = tuple(
        Attachment(f["name"], f["mime_type"], base64.b64decode(f["data"])) for f in attachments.get("files", ())
    )
    buttons = tuple(
        Button(b["label"], b["action_id"], b["value"], b.get("style")) for b in attachments.get("buttons", ())
    )
    return OutboundMessage(
        persona=persona,
        text=show_link_targets(limit_mentions(defuse_mass_mentions(message_text(record)), mentions, people)),
        key=f"tc-{record.id}",
        attachments=files,
        buttons=buttons,
    )


def audience(team: Team | None, state: ThreadState) -> tuple[MentionPolicy, frozenset[str]]:
    """Whom a thread's posts may ping: the team's mentions policy, and the people in the thread."""
    return (team.mentions if team is not None else "thread"), frozenset(state.participants)


def message_text(record: MessageRecord) -> str:
    """A stored message as people read it: words, code output, tool calls and results."""
    parts: list[str] = []
    content = record.content or ""
    code = (record.attachments or {}).get("code")
    if code is not None:
        exit_code = code["exit_code"]
        if exit_code is None:
            parts.append("Did not run the code.")
        else:
            parts.append(f"Ran the code: {exit_code} (execution {'succeeded' if exit_code == 0 else 'failed'})")
        if code["output"].strip():
            parts.append(f"```\n{code['output'].strip()}\n```")
    elif record.tool_responses:
        for response in record.tool_responses:
            parts.append(f"Tool result:\n```\n{response['content']}\n```")
    elif content:
        parts.append(content)
    for call in record.tool_calls or ():
        function = call["function"]
        arguments = _pretty(function.get("arguments") or "{}")
        parts.append(f"Calling `{function['name']}` with:\n```json\n{arguments}\n```")
    return "\n\n".join(parts) or "(no text)"


def _pretty(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments), indent=2)
    except ValueError:
        return arguments
