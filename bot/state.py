"""What a thread's session keeps besides the run itself, stored with the run after every step."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ThreadState"]


@dataclass
class ThreadState:
    """A thread's own bookkeeping (the run's state lives in the run).

    Attributes:
        paused: a person paused the run.
        failed: why the run stopped on an error (the model, the sandbox, a step's time).
        people: people's messages not stored yet: who wrote each, and its platform id.
        prompted: the wait a prompt (a question with buttons) was stored for.
        prompt_seq: that prompt's number in the conversation (to update it once answered).
        wait_id: the open wait's row in ``waits`` (None when the run waits for nothing).
        closing_noted: the note that says why the run ended is stored.
        usage_seen: per model, the tokens and cost already stored.
        spent: tokens and cost of the thread's earlier runs (its budget counts them).
        reader: the person who spoke last; a streamed reply is for them.
        participants: the ids of the people who spoke in this run (agents may mention them).
    """

    paused: bool = False
    failed: str | None = None
    people: list[dict[str, Any]] = field(default_factory=list)
    prompted: dict[str, Any] | None = None
    prompt_seq: int | None = None
    wait_id: int | None = None
    closing_noted: bool = False
    usage_seen: dict[str, list[float]] = field(default_factory=dict)
    spent: list[float] = field(default_factory=lambda: [0, 0.0])
    reader: str | None = None
    participants: list[str] = field(default_factory=list)

    def met(self, person: str) -> None:
        """``person`` spoke in the thread."""
        if person not in self.participants:
            self.participants.append(person)

    def to_json(self) -> dict[str, Any]:
        # A copy of each list and dict (their items are replaced, never changed in place): at every
        # save, and dataclasses.asdict's deep copy was most of what building the state cost.
        return {name: _copy(getattr(self, name)) for name in _FIELDS}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ThreadState:
        return cls(**{k: v for k, v in data.items() if k in _FIELDS})


_FIELDS = tuple(f.name for f in dataclasses.fields(ThreadState))


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    return dict(value) if isinstance(value, dict) else value
