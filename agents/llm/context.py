"""AutoGen's message ``context``: fill prompt templates just before the model call.

A message may carry ``"context": {...}``. The contents of the messages sent with it are then
instantiated: a callable content is called with the context; a string is formatted with it
(``"Solve {problem}"``) when ``llm_config["allow_format_str_template"]`` is True, and left as
written otherwise (so that braces in ordinary text never break a call).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import ConfigurationError

__all__ = ["instantiate", "instantiate_messages"]


def instantiate(
    template: str | Callable[[Mapping[str, Any]], Any] | None,
    context: Mapping[str, Any] | None = None,
    allow_format_str_template: bool = False,
) -> Any:
    """``template`` filled from ``context``.

    Raises:
        ConfigurationError: a format string names a key the context lacks.
    """
    if not context or template is None:
        return template
    if isinstance(template, str):
        if not allow_format_str_template:
            return template
        try:
            return template.format(**context)
        except (KeyError, IndexError) as exc:
            raise ConfigurationError(
                f"the message {template[:80]!r} names {exc} which its context lacks: add it to the message's "
                "'context', or write literal braces as {{ and }}"
            ) from exc
    return template(context)


def instantiate_messages(
    messages: Sequence[Mapping[str, Any]], context: Mapping[str, Any] | None, allow_format_str_template: bool = False
) -> list[dict[str, Any]]:
    """The messages with their contents instantiated (see :func:`instantiate`)."""
    out = []
    for message in messages:
        data = dict(message)
        content = data.get("content")
        if isinstance(content, str) or callable(content):
            data["content"] = instantiate(content, context, allow_format_str_template)
        out.append(data)
    return out
