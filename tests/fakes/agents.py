"""Small agents without a model, for tests of chat mechanics."""

from __future__ import annotations

import itertools
from typing import Any

from agents import ConversableAgent


def agent(name: str, **kwargs: Any) -> ConversableAgent:
    """A ConversableAgent with no model and no human input, unless told otherwise."""
    kwargs.setdefault("llm_config", False)
    kwargs.setdefault("human_input_mode", "NEVER")
    return ConversableAgent(name, **kwargs)


def counting(name: str, prefix: str | None = None) -> ConversableAgent:
    """An agent that answers '<prefix>1', '<prefix>2', ... forever (prefix defaults to its name)."""
    me = agent(name)
    numbers = itertools.count(1)
    me.register_reply([ConversableAgent, None], lambda *a, **k: (True, f"{prefix or name}{next(numbers)}"))
    return me


def reply_with(text: str) -> Any:
    """A reply function that always answers ``text``."""

    def reply(recipient: ConversableAgent, messages: Any = None, sender: Any = None, config: Any = None) -> Any:
        return True, text

    return reply
