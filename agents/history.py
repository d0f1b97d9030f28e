"""Keep long threads inside a model's context.

:class:`HistoryLimiter` trims what an agent (or group-chat speaker selection) sends to the
model: the most recent messages that fit ``max_messages`` and ``max_tokens``. It keeps system
messages, never separates a tool call from its results (a kept call keeps its results, and a
result whose call was dropped goes too: the model API rejects either half alone), and says in
the log what it dropped. The stored history is untouched; only the prompt is shorter.

Tokens are estimated at four characters each unless a ``token_counter`` is given (tiktoken
needs its encodings from the network, which not every deployment has).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ._classic import typed, typed_messages
from .errors import ConfigurationError
from .messages import Message, MessageLike


class _Hookable(Protocol):
    def register_hook(self, hookable_method: str, hook: Callable[..., Any]) -> None: ...


__all__ = ["HistoryLimiter", "estimate_tokens"]

_log = logging.getLogger(__name__)


def estimate_tokens(message: Message) -> int:
    """About four characters a token, plus a few for the message's framing."""
    return len(json.dumps(message.wire(), ensure_ascii=False)) // 4 + 4


class HistoryLimiter:
    """Keeps the newest messages within a message count and a token budget.

    Args:
        max_messages: at most this many messages (system messages not counted).
        max_tokens: at most this many tokens (system messages counted).
        token_counter: tokens of one message (default: :func:`estimate_tokens`).

    Raises:
        ConfigurationError: neither limit is set, or one is below 1.
    """

    def __init__(
        self,
        max_messages: int | None = None,
        max_tokens: int | None = None,
        token_counter: Callable[[Message], int] = estimate_tokens,
    ) -> None:
        if max_messages is None and max_tokens is None:
            raise ConfigurationError("HistoryLimiter needs max_messages, max_tokens or both")
        if (max_messages is not None and max_messages < 1) or (max_tokens is not None and max_tokens < 1):
            raise ConfigurationError("HistoryLimiter limits must be at least 1")
        self.max_messages = max_messages
        self.max_tokens = max_tokens
        self.count_tokens = token_counter

    def add_to_agent(self, agent: _Hookable) -> None:
        """Limit what ``agent`` sends to its model from now on."""
        agent.register_hook("process_all_messages_before_reply", self.apply)

    @typed
    def apply(self, messages: Sequence[MessageLike]) -> list[Message]:
        """The messages to send: system messages, then the newest whole units that fit."""
        messages = typed_messages(messages)
        system = [m for m in messages if m.role == "system"]
        rest = [m for m in messages if m.role != "system"]
        budget = None if self.max_tokens is None else self.max_tokens - sum(self.count_tokens(m) for m in system)
        kept: list[list[Message]] = []
        count = tokens = 0
        for unit in reversed(_units(rest)):
            unit_tokens = sum(self.count_tokens(m) for m in unit)
            over_count = self.max_messages is not None and count + len(unit) > self.max_messages
            over_tokens = budget is not None and tokens + unit_tokens > budget
            if (over_count or over_tokens) and kept:
                break
            kept.append(unit)
            count += len(unit)
            tokens += unit_tokens
        kept.reverse()
        while kept and _is_orphan_result(kept[0]):
            kept.pop(0)
        result = [*system, *(m for unit in kept for m in unit)]
        dropped = len(messages) - len(result)
        if dropped:
            _log.info(
                "history limiter dropped the %d oldest of %d messages (keeping %d messages, ~%d tokens)",
                dropped,
                len(messages),
                len(result),
                tokens + (sum(self.count_tokens(m) for m in system)),
            )
        return result


def _units(messages: list[Message]) -> list[list[Message]]:
    """Messages grouped so that a tool call and the results that answer it stay together."""
    units: list[list[Message]] = []
    open_ids: set[str] = set()
    for message in messages:
        answers = {r.tool_call_id for r in message.tool_responses}
        if message.role == "tool" and message.tool_call_id:
            answers.add(message.tool_call_id)
        if open_ids and answers & open_ids:
            units[-1].append(message)
            open_ids -= answers
        else:
            units.append([message])
            open_ids = set()
        if message.tool_calls:
            open_ids |= {call.id for call in message.tool_calls}
    return units


def _is_orphan_result(unit: list[Message]) -> bool:
    first = unit[0]
    return not first.tool_calls and (first.role == "tool" or bool(first.tool_responses))
