"""What a model call costs.

Prices are US dollars per million tokens (input, output) for OpenAI's public models, matched
on the longest model-name prefix so that dated snapshots (``gpt-4o-2024-08-06``) find their
family. Prices change: a config entry's ``price: [input_per_1k, output_per_1k]`` (AutoGen's
convention) always wins, and a model not listed here costs 0 with a one-time warning in the
log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

__all__ = ["cost_of"]

_log = logging.getLogger(__name__)

# (input, output) in USD per 1M tokens.
_PER_MILLION: dict[str, tuple[float, float]] = {
    "gpt-5": (1.25, 10.0),
    "gpt-5-mini": (0.25, 2.0),
    "gpt-5-nano": (0.05, 0.4),
    "gpt-4.1": (2.0, 8.0),
    "gpt-4.1-mini": (0.4, 1.6),
    "gpt-4.1-nano": (0.1, 0.4),
    "gpt-4o": (2.5, 10.0),
    "gpt-4o-mini": (0.15, 0.6),
    "gpt-4-turbo": (10.0, 30.0),
    "gpt-4": (30.0, 60.0),
    "gpt-4-32k": (60.0, 120.0),
    "gpt-3.5-turbo": (0.5, 1.5),
    "o1": (15.0, 60.0),
    "o1-mini": (1.1, 4.4),
    "o3": (2.0, 8.0),
    "o3-mini": (1.1, 4.4),
    "o4-mini": (1.1, 4.4),
}

_warned: set[str] = set()


def cost_of(model: str, prompt_tokens: int, completion_tokens: int, price: Sequence[float] | None = None) -> float:
    """The cost in USD of one call.

    Args:
        model: the model name the response reported (or the one requested).
        prompt_tokens: input tokens.
        completion_tokens: output tokens.
        price: ``[input_per_1k, output_per_1k]`` from the config entry, overriding the table.
    """
    if price is not None:
        return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1000
    rates = _lookup(model)
    if rates is None:
        if model not in _warned:
            _warned.add(model)
            _log.warning(
                "No price known for model %r; its cost counts as 0. "
                "Set 'price': [input_per_1k, output_per_1k] in its config entry.",
                model,
            )
        return 0.0
    return (prompt_tokens * rates[0] + completion_tokens * rates[1]) / 1_000_000


def _lookup(model: str) -> tuple[float, float] | None:
    name = model.rsplit("/", maxsplit=1)[-1]  # "openai/gpt-4o" on routers such as OpenRouter
    best: str | None = None
    for prefix in _PER_MILLION:
        if (name == prefix or name.startswith(prefix + "-")) and (best is None or len(prefix) > len(best)):
            best = prefix
    return _PER_MILLION[best] if best is not None else None
