"""How a run's state holds its message lists: inline as dicts, or handed to whoever saves it.

A run's state holds every agent's history with each peer and the group chat's transcript: the
bulk of it, and the part that only grows. :meth:`~agents.GroupChatRun.to_json` writes each list
through a :data:`MessageLists` function, called with the list's key and the live list. The
default puts the messages' dicts in place; a saver that stores only what changed since its last
save (the thread runtime) puts a reference there instead, and gives the lists back, whole, to
:meth:`~agents.GroupChatRun.from_json`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .messages import Message

__all__ = ["MessageLists", "history_key", "inline", "transcript_key"]

MessageLists = Callable[[str, list[Message]], Any]
"""``lists(key, messages)``: what the state holds in place of ``messages``; ``key`` names the list
(the same list has the same key at every save, and no other list has it)."""


def inline(_key: str, messages: list[Message]) -> list[dict[str, Any]]:
    """The messages themselves, as AutoGen dicts (the default)."""
    return [m.to_dict() for m in messages]


def history_key(agent: str, peer: str) -> str:
    """The key of ``agent``'s history with ``peer``."""
    return f"history\x1f{agent}\x1f{peer}"


def transcript_key(manager: str) -> str:
    """The key of the transcript of ``manager``'s group chat."""
    return f"transcript\x1f{manager}"
