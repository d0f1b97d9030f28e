"""AutoGen's ``GroupChat.manual_select_speaker`` and ``random_select_speaker``, as functions.

``GroupChat`` exposes them as methods (``groupchat.random_select_speaker()``); they are here so
that the group chat's own selection (which suspends for a human instead of blocking) stays
apart from these direct, console-blocking calls. Both return None for "let the chat choose".
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, Protocol


class _Group(Protocol):
    """What these functions need of a group chat."""

    @property
    def agents(self) -> Any: ...


__all__ = ["manual_select_speaker", "random_select_speaker"]

_ATTEMPTS = 2


def random_select_speaker(groupchat: _Group, agents: Sequence[Any] | None = None) -> Any | None:
    """A random agent among ``agents`` (default: the whole group), or None when there is none."""
    candidates = list(groupchat.agents if agents is None else agents)
    return random.choice(candidates) if candidates else None


def manual_select_speaker(groupchat: _Group, agents: Sequence[Any] | None = None) -> Any | None:
    """Ask on the console which agent speaks next: a number from the list, or a name.

    Nothing, ``q``, or two answers that name no agent give None (automatic selection).
    """
    candidates = list(groupchat.agents if agents is None else agents)
    if not candidates:
        return None
    print("Please select the next speaker from the following list:")
    for i, agent in enumerate(candidates, 1):
        print(f"{i}: {agent.name}")
    for _ in range(_ATTEMPTS):
        answer = input("Enter the number of the next speaker (enter nothing or `q` to use auto selection): ").strip()
        if answer in ("", "q"):
            return None
        if answer.isdigit() and 1 <= int(answer) <= len(candidates):
            return candidates[int(answer) - 1]
        named = [agent for agent in candidates if agent.name == answer]
        if named:
            return named[0]
        print(f"Invalid input. Please enter a number between 1 and {len(candidates)}.")
    print(f"No valid choice after {_ATTEMPTS} answers: the next speaker is selected automatically.")
    return None
