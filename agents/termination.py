"""Termination conditions, AgentChat style, for group and two-agent chats.

A condition looks at the chat's progress (its messages, tokens and cost, when it started,
whether someone pressed stop) and answers with the reason the chat must stop, or None::

    stop = TextMention("APPROVE") | MaxMessages(20) | Timeout(600)
    manager = GroupChatManager(groupchat, termination_condition=stop)

``a | b`` stops when either does, ``a & b`` when both do. Conditions hold no state of their
own (except :class:`External`'s flag): what they read is part of the chat's durable state, so
a chat resumed in another process stops exactly where it would have. They are checked after
every message, next to the agents' ``is_termination_msg``; ``ChatResult.stop_reason`` says
which one ended the chat.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from .llm.usage import Usage
from .messages import Message

__all__ = [
    "ChatProgress",
    "External",
    "MaxMessages",
    "TerminationCondition",
    "TextMention",
    "Timeout",
    "TokenUsage",
]


@dataclass(frozen=True, slots=True)
class ChatProgress:
    """What a condition may look at.

    Attributes:
        messages: the chat's messages so far (the first message included).
        usage: tokens and cost of the chat's model calls so far.
        started_at: when the chat started (seconds since the epoch).
        stop_requested: someone asked the chat to stop (a stop button).
    """

    messages: Sequence[Message]
    usage: Usage
    started_at: float
    stop_requested: bool = False


class TerminationCondition(ABC):
    """Decides, after each message, whether a chat must stop."""

    @abstractmethod
    def check(self, progress: ChatProgress) -> str | None:
        """The reason to stop now, or None to go on."""

    def __or__(self, other: TerminationCondition) -> TerminationCondition:
        return _Either(self, other)

    def __and__(self, other: TerminationCondition) -> TerminationCondition:
        return _Both(self, other)


@dataclass(frozen=True)
class _Either(TerminationCondition):
    left: TerminationCondition
    right: TerminationCondition

    def check(self, progress: ChatProgress) -> str | None:
        return self.left.check(progress) or self.right.check(progress)

    def __repr__(self) -> str:
        return f"({self.left!r} | {self.right!r})"


@dataclass(frozen=True)
class _Both(TerminationCondition):
    left: TerminationCondition
    right: TerminationCondition

    def check(self, progress: ChatProgress) -> str | None:
        left = self.left.check(progress)
        right = self.right.check(progress) if left else None
        return f"{left} and {right}" if left and right else None

    def __repr__(self) -> str:
        return f"({self.left!r} & {self.right!r})"


@dataclass(frozen=True)
class MaxMessages(TerminationCondition):
    """Stop once the chat holds ``max_messages`` messages."""

    max_messages: int

    def __post_init__(self) -> None:
        if self.max_messages < 1:
            raise ValueError("MaxMessages needs max_messages >= 1")

    def check(self, progress: ChatProgress) -> str | None:
        count = len(progress.messages)
        return f"MaxMessages: {count} of {self.max_messages} messages" if count >= self.max_messages else None


@dataclass(frozen=True)
class TextMention(TerminationCondition):
    """Stop when the latest message contains ``text`` (optionally only from the named agents)."""

    text: str
    sources: tuple[str, ...] | None = None

    def check(self, progress: ChatProgress) -> str | None:
        if not progress.messages:
            return None
        last = progress.messages[-1]
        if self.sources is not None and last.name not in self.sources:
            return None
        if self.text in last.text:
            return f"TextMention: {last.name or 'a message'} wrote {self.text!r}"
        return None


@dataclass(frozen=True)
class TokenUsage(TerminationCondition):
    """Stop once the chat's model calls used this many tokens (any limit left None is ignored)."""

    max_total_tokens: int | None = None
    max_prompt_tokens: int | None = None
    max_completion_tokens: int | None = None

    def __post_init__(self) -> None:
        if (self.max_total_tokens, self.max_prompt_tokens, self.max_completion_tokens) == (None, None, None):
            raise ValueError(
                "TokenUsage needs at least one of max_total_tokens, max_prompt_tokens, max_completion_tokens"
            )

    def check(self, progress: ChatProgress) -> str | None:
        prompt = sum(u.prompt_tokens for _, u in progress.usage.models())
        completion = sum(u.completion_tokens for _, u in progress.usage.models())
        for used, limit, kind in (
            (prompt + completion, self.max_total_tokens, "total"),
            (prompt, self.max_prompt_tokens, "prompt"),
            (completion, self.max_completion_tokens, "completion"),
        ):
            if limit is not None and used >= limit:
                return f"TokenUsage: {used} {kind} tokens (limit {limit})"
        return None


@dataclass(frozen=True)
class Timeout(TerminationCondition):
    """Stop once the chat has run for ``seconds`` (wall-clock time, across restarts)."""

    seconds: float

    def check(self, progress: ChatProgress) -> str | None:
        elapsed = time.time() - progress.started_at
        return f"Timeout: {elapsed:.0f} s of {self.seconds:g} s" if elapsed >= self.seconds else None


class External(TerminationCondition):
    """Stop when someone says so: :meth:`set` here, or a stop requested on the chat's run."""

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    @property
    def is_set(self) -> bool:
        return self._set

    def check(self, progress: ChatProgress) -> str | None:
        return "External: stop requested" if self._set or progress.stop_requested else None

    def __repr__(self) -> str:
        return f"External(set={self._set})"
