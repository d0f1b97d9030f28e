"""What a step of a durable run did, as typed values: the messages it added, why the run
stopped, and what it now waits for.

A thread runtime renders from a :class:`StepOutcome` alone; it never reads the group chat's
message list or an agent's attributes to learn what happened.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from .coding.base import CodeFile, CodeResult
from .human_input import Approval
from .llm.usage import Usage
from .messages import Message

__all__ = [
    "Approval",
    "CallsUsage",
    "MessageKind",
    "SpeakerChoice",
    "StepMessage",
    "StepOutcome",
    "Stop",
    "StopKind",
    "WaitKind",
    "collect_code_results",
    "collect_speaker_selections",
    "record_code_result",
    "record_speaker_selection",
]

T = TypeVar("T")

WaitKind = Literal["question", "approval", "speaker"]
"""A question for people, an approval (run this code?), or a choice of the next speaker."""

MessageKind = Literal["text", "tool_call", "tool_result", "code_result"]


class StopKind(enum.StrEnum):
    """Why a run ended."""

    TERMINATION_MESSAGE = "termination_message"  # an agent's is_termination_msg said so
    CONDITION = "condition"  # a termination condition (a budget, a time limit, a text mention...)
    MAX_ROUND = "max_round"  # the group chat's max_round, or a two-agent chat's max_turns
    NO_SPEAKER = "no_speaker"  # nobody may speak next
    NO_REPLY = "no_reply"  # the agent whose turn it was had nothing to say
    HUMAN_EXIT = "human_exit"  # a person typed exit
    AUTO_REPLY_LIMIT = "auto_reply_limit"  # max_consecutive_auto_reply reached
    STOP_REQUESTED = "stop_requested"  # someone pressed stop


@dataclass(frozen=True, slots=True)
class Stop:
    """Why a run ended: the kind, and the words ``ChatResult.stop_reason`` carries."""

    kind: StopKind
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind.value, "detail": self.detail}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Stop:
        return cls(StopKind(data["kind"]), data["detail"])


@dataclass(frozen=True, slots=True)
class CallsUsage:
    """Tokens and cost of some model calls (those behind one message, or one speaker selection)."""

    models: tuple[str, ...]
    prompt_tokens: int
    completion_tokens: int
    cost: float

    @classmethod
    def of(cls, usage: Usage) -> CallsUsage | None:
        """What ``usage`` (one scope's calls) adds up to; None when no model was called."""
        models = list(usage.models())
        if not models:
            return None
        return cls(
            tuple(name for name, _ in models),
            sum(u.prompt_tokens for _, u in models),
            sum(u.completion_tokens for _, u in models),
            sum(u.cost for _, u in models),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "models": list(self.models),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost": self.cost,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CallsUsage:
        return cls(tuple(data["models"]), data["prompt_tokens"], data["completion_tokens"], data["cost"])


@dataclass(frozen=True, slots=True)
class SpeakerChoice:
    """How the next speaker was chosen, and, when a model chose, what it was sent and answered.

    Attributes:
        chosen: the agent that speaks next.
        how: ``model`` (``auto`` selection), ``named`` (a person's message named it), ``person``
            (``manual``: a person picked it), ``round_robin``, ``random``, ``function`` (the group
            chat's own selection function), or ``only`` (nobody else could speak).
        prompt: for a model, the selection's own messages in the OpenAI chat format: the system
            message, then (after the conversation's messages) the question, and each retry's
            answer and question.
        answers: for a model, its answer to each attempt (a retry follows an answer naming no
            one, or several; when none named one, the next in turn speaks).
        history: how many of the conversation's messages were sent between the system message
            and the question (they are in the transcript already).
        usage: tokens and cost of the selection's model calls.
    """

    chosen: str
    how: str
    prompt: tuple[Mapping[str, Any], ...] = ()
    answers: tuple[str, ...] = ()
    history: int = 0
    usage: CallsUsage | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "chosen": self.chosen,
            "how": self.how,
            "prompt": [dict(m) for m in self.prompt],
            "answers": list(self.answers),
            "history": self.history,
            "usage": self.usage.to_json() if self.usage is not None else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SpeakerChoice:
        usage = data.get("usage")
        return cls(
            data["chosen"],
            data["how"],
            tuple(data.get("prompt", ())),
            tuple(data.get("answers", ())),
            data.get("history", 0),
            CallsUsage.from_json(usage) if usage else None,
        )


@dataclass(frozen=True, slots=True)
class StepMessage:
    """A message a step added to the conversation.

    Attributes:
        message: the message, typed.
        author: the agent that said it (for people's words: their agent).
        kind: words, a call for tools, tools' results, or the result of running code.
        by_human: a person wrote it (the people's agent passed on what they typed).
        exit_code: for a code result, the code's exit code (None: the code did not run, it was refused).
        output: for a code result, what the code printed (or why it was refused).
        files: for a code result, the files the code wrote.
        usage: tokens and cost of the model calls that produced it (None: no model was called).
        selection: how its author was chosen to speak (None: nobody was chosen, as for the first message).
    """

    message: Message
    author: str
    kind: MessageKind = "text"
    by_human: bool = False
    exit_code: int | None = None
    output: str = ""
    files: tuple[CodeFile, ...] = ()
    usage: CallsUsage | None = None
    selection: SpeakerChoice | None = None


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What one step did.

    Attributes:
        messages: the messages it added, in order.
        status: the run's status after it (running, waiting, finished).
        stop: why the run ended, on the step that ended it (else None).
        wait: what the run waits for, when it waits.
    """

    messages: tuple[StepMessage, ...]
    status: Literal["running", "waiting", "finished"]
    stop: Stop | None = None
    wait: Any = None  # a HumanInputWait (agents._run), kept loose to avoid an import cycle


CodeRun = tuple[str, CodeResult | str]
"""An agent's code run: its name and the result, or why the code was refused (it did not run)."""


class _Collector(Generic[T]):
    """What a step's code records for the run as it goes (code runs, choices of speaker): a list per
    context, so that concurrent runs never see each other's."""

    def __init__(self, name: str) -> None:
        self._sinks: ContextVar[list[T] | None] = ContextVar(name, default=None)

    @contextmanager
    def collect(self, sink: list[T]) -> Iterator[list[T]]:
        token = self._sinks.set(sink)
        try:
            yield sink
        finally:
            self._sinks.reset(token)

    def record(self, item: T) -> None:
        sink = self._sinks.get()
        if sink is not None:
            sink.append(item)


_code_results = _Collector[CodeRun]("threadcrew_code_results")
_selections = _Collector[SpeakerChoice]("threadcrew_speaker_selections")


def collect_code_results(sink: list[CodeRun]) -> AbstractContextManager[list[CodeRun]]:
    """Collect the code runs (and refusals) of this context."""
    return _code_results.collect(sink)


def record_code_result(agent: str, result: CodeResult | str) -> None:
    """Record a code run (or, as text, why it was refused) for the innermost :func:`collect_code_results`."""
    _code_results.record((agent, result))


def collect_speaker_selections(sink: list[SpeakerChoice]) -> AbstractContextManager[list[SpeakerChoice]]:
    """Collect how a model chose speakers in this context."""
    return _selections.collect(sink)


def record_speaker_selection(selection: SpeakerChoice) -> None:
    """Record a model's choice of speaker for the innermost :func:`collect_speaker_selections`."""
    _selections.record(selection)
