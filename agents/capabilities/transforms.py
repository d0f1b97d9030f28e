"""AutoGen's message transforms: shorten what an agent sends to its model.

Transforms work on AutoGen-style message dicts and never change the stored history. A
transform has ``apply_transform(messages) -> messages`` and ``get_logs(pre, post) ->
(text, changed)``. Tokens are estimated at about four characters each (tiktoken's encodings
need the network, which not every deployment has).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from ..llm.config_list import filter_config
from ..messages import content_str

__all__ = ["MessageHistoryLimiter", "MessageTokenLimiter", "MessageTransform", "count_tokens"]

_CHARS_PER_TOKEN = 4


@runtime_checkable
class MessageTransform(Protocol):
    """One step of :class:`~agents.capabilities.transform_messages.TransformMessages`."""

    def apply_transform(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]: ...

    def get_logs(
        self, pre_transform_messages: list[dict[str, Any]], post_transform_messages: list[dict[str, Any]]
    ) -> tuple[str, bool]: ...


def count_tokens(content: Any) -> int:
    """About how many tokens a text (or a message's content) is: four characters a token."""
    text = content if isinstance(content, str) else content_str(content)
    return -(-len(text) // _CHARS_PER_TOKEN)


def _is_tool_result(message: Mapping[str, Any]) -> bool:
    return message.get("role") == "tool" or bool(message.get("tool_responses"))


class MessageHistoryLimiter:
    """Keeps only the newest ``max_messages`` messages.

    Args:
        max_messages: how many to keep (None keeps all).
        keep_first_message: also keep the first message (the task), counted in ``max_messages``.

    A tool result whose call was cut off goes too: the model API refuses one without the other.

    Raises:
        ValueError: ``max_messages`` below 1.
    """

    def __init__(self, max_messages: int | None = None, keep_first_message: bool = False) -> None:
        if max_messages is not None and max_messages < 1:
            raise ValueError("max_messages must be None or at least 1")
        self._max_messages = max_messages
        self._keep_first_message = keep_first_message

    def apply_transform(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The newest messages that fit (the first one too when asked)."""
        limit = self._max_messages
        if limit is None or len(messages) <= limit:
            return messages
        first = messages[:1] if self._keep_first_message else []
        room = limit - len(first)
        kept = messages[len(messages) - room :] if room > 0 else []
        while kept and _is_tool_result(kept[0]):
            kept = kept[1:]
        return [*first, *kept]

    def get_logs(
        self, pre_transform_messages: list[dict[str, Any]], post_transform_messages: list[dict[str, Any]]
    ) -> tuple[str, bool]:
        before, after = len(pre_transform_messages), len(post_transform_messages)
        if after < before:
            return f"Removed {before - after} messages. Number of messages reduced from {before} to {after}.", True
        return "No messages were removed.", False


class MessageTokenLimiter:
    """Cuts long messages and drops the oldest ones past a token budget.

    Args:
        max_tokens_per_message: each message's text is cut to this many tokens.
        max_tokens: the newest messages that fit in this many tokens are kept.
        min_tokens: do nothing while the messages hold fewer tokens than this.
        model: the model the tokens are for (kept for AutoGen's signature; counting is estimated).
        filter_dict: which messages to leave alone (or, with ``exclude_filter=False``, the only
            ones to change), as in :func:`~agents.llm.config_list.filter_config`.
        exclude_filter: see ``filter_dict``.

    Raises:
        ValueError: a limit below 0.
    """

    def __init__(
        self,
        max_tokens_per_message: int | None = None,
        max_tokens: int | None = None,
        min_tokens: int | None = None,
        model: str = "gpt-3.5-turbo-0613",
        filter_dict: Mapping[str, Iterable[Any]] | None = None,
        exclude_filter: bool = True,
    ) -> None:
        for name, value in (("max_tokens_per_message", max_tokens_per_message), ("max_tokens", max_tokens)):
            if value is not None and value < 0:
                raise ValueError(f"{name} must be None or at least 0")
        if min_tokens is not None and min_tokens < 0:
            raise ValueError("min_tokens must be None or at least 0")
        self._max_tokens_per_message = max_tokens_per_message
        self._max_tokens = max_tokens
        self._min_tokens = min_tokens
        self._model = model
        self._filter_dict = filter_dict
        self._exclude_filter = exclude_filter

    def _changes(self, message: dict[str, Any]) -> bool:
        if not self._filter_dict:
            return True
        matches = bool(filter_config([message], self._filter_dict))
        return not matches if self._exclude_filter else matches

    def _cut(self, content: Any) -> Any:
        limit = self._max_tokens_per_message
        if limit is None:
            return content
        if isinstance(content, str):
            return content[: limit * _CHARS_PER_TOKEN]
        if isinstance(content, list):
            return [
                {**part, "text": part["text"][: limit * _CHARS_PER_TOKEN]}
                if isinstance(part, dict) and part.get("type") == "text"
                else part
                for part in content
            ]
        return content

    def apply_transform(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The newest messages, each cut to its limit, that fit in ``max_tokens``."""
        total = sum(count_tokens(m.get("content")) for m in messages)
        if self._min_tokens is not None and total < self._min_tokens:
            return messages
        kept: list[dict[str, Any]] = []
        used = 0
        for original in reversed(messages):
            message = copy.deepcopy(original)
            if self._changes(message) and message.get("content") is not None:
                message["content"] = self._cut(message["content"])
            tokens = count_tokens(message.get("content"))
            if self._max_tokens is not None and used + tokens > self._max_tokens:
                break
            used += tokens
            kept.append(message)
        kept.reverse()
        while kept and _is_tool_result(kept[0]):
            kept = kept[1:]
        return kept

    def get_logs(
        self, pre_transform_messages: list[dict[str, Any]], post_transform_messages: list[dict[str, Any]]
    ) -> tuple[str, bool]:
        before = sum(count_tokens(m.get("content")) for m in pre_transform_messages)
        after = sum(count_tokens(m.get("content")) for m in post_transform_messages)
        if after < before:
            return f"Truncated {before - after} tokens. Number of tokens reduced from {before} to {after}", True
        return "No tokens were truncated.", False
