"""Where an agent's human input comes from.

AutoGen reads it with ``input()``. Here it comes from a pluggable source:

- :class:`ConsoleInput` reads the terminal (off the event loop); end of input means "exit".
- :class:`ScriptedInput` answers from a list and records the prompts: for tests and demos.
- :class:`DeferredInput` is the durable suspension of the thread runtime: with no answer
  yet it raises :class:`~agents.errors.HumanInputRequired`, the chat loop records a wait,
  and the answer is delivered later, perhaps in another process.

An answer is text, or multimodal content (:data:`HumanReply`: a list of ``text`` and
``image_url`` parts, as in a message's ``content``) when a person attached images; what
reads answers as words (``exit``, a speaker's number, ``ChatResult.human_input``) reads its
text parts.

A subclass of ConversableAgent that overrides ``get_human_input`` / ``a_get_human_input``
(AutoGen's UI hook) bypasses the source.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, runtime_checkable

from .errors import HumanInputError, HumanInputRequired

__all__ = [
    "AcceptsAnswers",
    "Approval",
    "ConsoleInput",
    "DeferredInput",
    "HumanInputSource",
    "HumanReply",
    "ScriptedInput",
    "collect_human_input",
    "provide_answers",
    "record_human_input",
]


HumanReply: TypeAlias = str | list[dict[str, Any]]


@runtime_checkable
class HumanInputSource(Protocol):
    """Answers an agent's prompt with what a person typed.

    ``choices``, when given, are the answers the prompt offers (a numbered list in the prompt
    text too): a chat platform shows them as buttons.
    """

    async def get_input(self, prompt: str, *, agent_name: str, choices: Sequence[str] | None = None) -> HumanReply: ...


@runtime_checkable
class AcceptsAnswers(Protocol):
    """A source that can be handed an answer that arrived while nothing was waiting on it."""

    def deliver(self, answer: str) -> None: ...


class ConsoleInput:
    """Reads the terminal; end of input (Ctrl-D, a closed pipe) answers ``exit``."""

    async def get_input(self, prompt: str, *, agent_name: str, choices: Sequence[str] | None = None) -> str:
        try:
            return await asyncio.to_thread(input, prompt)
        except EOFError:
            return "exit"


class ScriptedInput:
    """Answers from a list, in order, and records every prompt it was asked.

    Raises:
        HumanInputError: when asked after the answers ran out, naming the prompt.
    """

    def __init__(self, answers: Iterable[str] = ()) -> None:
        self._answers = deque(answers)
        self.prompts: list[tuple[str, str]] = []

    def add(self, *answers: str) -> None:
        self._answers.extend(answers)

    @property
    def remaining(self) -> int:
        return len(self._answers)

    async def get_input(self, prompt: str, *, agent_name: str, choices: Sequence[str] | None = None) -> str:
        self.prompts.append((agent_name, prompt))
        if not self._answers:
            raise HumanInputError(f"ScriptedInput has no answer left for {agent_name!r}, asked: {prompt!r}")
        return self._answers.popleft()


@dataclass(frozen=True, slots=True)
class Approval:
    """A person's decision on an approval wait (delivered with :meth:`~agents.DurableRun.deliver`)."""

    approved: bool
    by: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"approval": self.approved, "by": self.by}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Approval:
        return cls(bool(data["approval"]), str(data.get("by", "")))


class DeferredInput:
    """No blocking: without a delivered answer, ask the chat loop to wait for one."""

    def __init__(self) -> None:
        self._answers: deque[Any] = deque()

    def deliver(self, answer: HumanReply) -> None:
        self._answers.append(answer)

    @property
    def pending(self) -> int:
        return len(self._answers)

    async def get_input(
        self, prompt: str, *, agent_name: str, choices: Sequence[str] | None = None, kind: str = "question"
    ) -> HumanReply:
        """The answer, or (none yet) a wait of ``kind`` for one (see :class:`~agents.outcome.WaitKind`)."""
        answer = self._take(agent_name)
        if answer is None:
            raise HumanInputRequired(agent_name, prompt, tuple(choices or ()), kind)
        return answer if isinstance(answer, list) else str(answer)

    async def get_approval(self, prompt: str, *, agent_name: str) -> Approval:
        """A person's decision on ``prompt`` (delivered as an :class:`~agents.outcome.Approval`), or
        (none yet) an approval wait."""
        answer = self._take(agent_name)
        if answer is None:
            raise HumanInputRequired(agent_name, prompt, ("approve", "reject"), "approval")
        if isinstance(answer, Mapping):
            return Approval.from_json(answer)
        return Approval(str(answer).strip().lower() in ("approve", "approved", "yes", "y"))  # typed by a person

    def _take(self, agent_name: str) -> Any:
        if self._answers:
            return self._answers.popleft()
        box = _answer_box.get()
        if box and box.get(agent_name):
            return box[agent_name].pop(0)
        return None


_answer_box: ContextVar[dict[str, list[Any]] | None] = ContextVar("threadcrew_answer_box", default=None)


@contextmanager
def provide_answers(answers: dict[str, list[Any]]) -> Iterator[None]:
    """Let every :class:`DeferredInput` asked in this context take its answer from ``answers``.

    ``answers`` maps agent names to answers not yet taken; a taken answer is removed from
    it, so that the owner (a chat run) always holds exactly the answers still to give. The
    box is found by agent name, so it reaches agents inside nested chats too.
    """
    token = _answer_box.set(answers)
    try:
        yield
    finally:
        _answer_box.reset(token)


_sinks: ContextVar[tuple[list[str], ...]] = ContextVar("threadcrew_human_input_sinks", default=())


@contextmanager
def collect_human_input(sink: list[str]) -> Iterator[list[str]]:
    """Append every human answer given in this context (and tasks it starts) to ``sink``."""
    token = _sinks.set((*_sinks.get(), sink))
    try:
        yield sink
    finally:
        _sinks.reset(token)


def record_human_input(answer: str) -> None:
    """Record one human answer into every open :func:`collect_human_input` scope."""
    for sink in _sinks.get():
        sink.append(answer)
