"""What a step of a durable run did, as typed values: the messages it added, why the run
stopped, and what it now waits for.

A thread runtime renders from a :class:`StepOutcome` alone; it never reads the group chat's
message list or an agent's attributes to learn what happened.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

from .coding.base import CodeFile, CodeResult
from .human_input import Approval
from .messages import Message

__all__ = [
    "Approval",
    "MessageKind",
    "StepMessage",
    "StepOutcome",
    "Stop",
    "StopKind",
    "WaitKind",
    "collect_code_results",
    "record_code_result",
]

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
    """

    message: Message
    author: str
    kind: MessageKind = "text"
    by_human: bool = False
    exit_code: int | None = None
    output: str = ""
    files: tuple[CodeFile, ...] = ()


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

_code_results: ContextVar[list[CodeRun] | None] = ContextVar("threadcrew_code_results", default=None)


@contextmanager
def collect_code_results(sink: list[CodeRun]) -> Iterator[list[CodeRun]]:
    """Collect the code runs (and refusals) of this context."""
    token = _code_results.set(sink)
    try:
        yield sink
    finally:
        _code_results.reset(token)


def record_code_result(agent: str, result: CodeResult | str) -> None:
    """Record a code run (or, as text, why it was refused) for the innermost :func:`collect_code_results`."""
    sink = _code_results.get()
    if sink is not None:
        sink.append((agent, result))
