"""Tokens and cost of model calls.

A :class:`Usage` keeps running totals per model, once including responses served from the
response cache and once without them, and prints in AutoGen's summary format::

    {"usage_including_cached_inference": {"total_cost": 0.1, "gpt-4o": {"cost": ..., "prompt_tokens": ...,
                                                                        "completion_tokens": ..., "total_tokens": ...}},
     "usage_excluding_cached_inference": {...}}

Every call is recorded in the client that made it and in each :func:`collect_usage` scope
that is open in the current context, which is how a chat's cost includes its summary,
speaker selection and nested chats. :func:`observe_calls` is told of each call that reached
an endpoint (its model, seconds, failure), for an application's metrics.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "CallObserver",
    "ModelUsage",
    "Usage",
    "UsageSummary",
    "collect_usage",
    "gather_usage_summary",
    "observe_calls",
    "record_usage",
]

_log = logging.getLogger(__name__)

UsageSummary = dict[str, dict[str, Any]]


@dataclass(slots=True)
class ModelUsage:
    """Totals for one model."""

    cost: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict[str, Any]:
        return {
            "cost": self.cost,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


class Usage:
    """Running totals of model calls, per model, with and without cache hits."""

    __slots__ = ("_actual", "_total")

    def __init__(self) -> None:
        self._total: dict[str, ModelUsage] = {}
        self._actual: dict[str, ModelUsage] = {}

    def record(self, model: str, *, prompt_tokens: int, completion_tokens: int, cost: float, cached: bool) -> None:
        """Add one call. A cached call counts only in the totals that include the cache."""
        books = (self._total,) if cached else (self._total, self._actual)
        for book in books:
            entry = book.get(model)
            if entry is None:
                entry = book[model] = ModelUsage()
            entry.cost += cost
            entry.prompt_tokens += prompt_tokens
            entry.completion_tokens += completion_tokens

    def merge(self, other: Usage) -> None:
        """Add all of ``other``'s totals to this one."""
        for mine, theirs in ((self._total, other._total), (self._actual, other._actual)):
            for model, usage in theirs.items():
                entry = mine.setdefault(model, ModelUsage())
                entry.cost += usage.cost
                entry.prompt_tokens += usage.prompt_tokens
                entry.completion_tokens += usage.completion_tokens

    def clear(self) -> None:
        self._total.clear()
        self._actual.clear()

    @property
    def total_cost(self) -> float:
        """Cost of every call, cache hits included."""
        return sum(u.cost for u in self._total.values())

    @property
    def total_tokens(self) -> int:
        """Tokens of every call, cache hits included."""
        return sum(u.total_tokens for u in self._total.values())

    @property
    def actual_cost(self) -> float:
        """Cost of the calls that reached a model."""
        return sum(u.cost for u in self._actual.values())

    def models(self) -> Iterator[tuple[str, ModelUsage]]:
        """Per-model totals, cache hits included."""
        return iter(self._total.items())

    def summary(self) -> UsageSummary:
        """AutoGen's two-part summary (see the module docstring)."""
        return {
            "usage_including_cached_inference": _book_summary(self._total),
            "usage_excluding_cached_inference": _book_summary(self._actual),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "total": {m: u.to_dict() for m, u in self._total.items()},
            "actual": {m: u.to_dict() for m, u in self._actual.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Usage:
        usage = cls()
        for key, book in (("total", usage._total), ("actual", usage._actual)):
            for model, entry in (data.get(key) or {}).items():
                book[model] = ModelUsage(
                    cost=float(entry.get("cost", 0.0)),
                    prompt_tokens=int(entry.get("prompt_tokens", 0)),
                    completion_tokens=int(entry.get("completion_tokens", 0)),
                )
        return usage

    def __repr__(self) -> str:
        return f"Usage(total_cost={self.total_cost!r}, total_tokens={self.total_tokens!r})"


def _book_summary(book: dict[str, ModelUsage]) -> dict[str, Any]:
    out: dict[str, Any] = {"total_cost": sum(u.cost for u in book.values())}
    for model, usage in book.items():
        out[model] = usage.to_dict()
    return out


_sinks: ContextVar[tuple[Usage, ...]] = ContextVar("threadcrew_usage_sinks", default=())


@contextmanager
def collect_usage(usage: Usage) -> Iterator[Usage]:
    """Record every model call made in this context (and tasks it starts) into ``usage``."""
    token = _sinks.set((*_sinks.get(), usage))
    try:
        yield usage
    finally:
        _sinks.reset(token)


CallObserver = Callable[[str, float, bool], None]
"""Told of each model call that reached an endpoint: the model, its seconds, whether it failed."""

_observers: ContextVar[tuple[CallObserver, ...]] = ContextVar("threadcrew_call_observers", default=())


@contextmanager
def observe_calls(observer: CallObserver) -> Iterator[None]:
    """Tell ``observer`` of every model call made in this context (and tasks it starts);
    how an application counts calls, their latency and errors without agents knowing it."""
    token = _observers.set((*_observers.get(), observer))
    try:
        yield
    finally:
        _observers.reset(token)


def notify_call(model: str, seconds: float, *, failed: bool) -> None:
    """Tell the open :func:`observe_calls` observers of one call (an observer's fault is not the call's)."""
    for observer in _observers.get():
        try:
            observer(model, seconds, failed)
        except Exception:  # an observer must never break a run
            _log.exception("a model-call observer failed")


def record_usage(model: str, *, prompt_tokens: int, completion_tokens: int, cost: float, cached: bool) -> None:
    """Record one call into every open :func:`collect_usage` scope."""
    for sink in _sinks.get():
        sink.record(model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, cost=cost, cached=cached)


class _HasClient(Protocol):
    @property
    def client(self) -> Any: ...


def gather_usage_summary(agents: Iterable[_HasClient]) -> UsageSummary:
    """The summed usage of the agents' model clients, over their whole lifetime (as AutoGen)."""
    total = Usage()
    for agent in agents:
        client = getattr(agent, "client", None)
        usage = getattr(client, "usage", None)
        if isinstance(usage, Usage):
            total.merge(usage)
    return total.summary()
