"""How chats print on a terminal when they are not silent."""

from __future__ import annotations

import sys

from .messages import Message

__all__ = ["print_message", "print_stream"]

_RULE = "-" * 80


def print_message(sender: str, recipient: str, message: Message) -> None:
    """Print one message the way AutoGen users know: who to whom, content, tool calls, a rule."""
    lines = [f"{sender} (to {recipient}):", ""]
    if message.tool_responses:
        for response in message.tool_responses:
            lines += [f"***** Response from calling tool ({response.tool_call_id}) *****", response.content]
    elif message.content is not None:
        lines.append(message.text)
    for call in message.tool_calls:
        lines += [f"***** Suggested tool call ({call.id}): {call.name} *****", f"Arguments: {call.arguments}"]
    lines += ["", _RULE]
    print("\n".join(lines), flush=True)


def print_stream(delta: str) -> None:
    """Print a piece of a streamed reply as it arrives."""
    sys.stdout.write(delta)
    sys.stdout.flush()
