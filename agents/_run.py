"""What every durable chat run shares: stepping, waiting for humans, answers, usage, stopping.

A run is a state machine. :meth:`DurableRun.a_step` advances it by one step; a step that needs
a human who has not answered yet ends in a *wait* instead of blocking (see
:class:`~agents.human_input.DeferredInput`). :meth:`DurableRun.deliver` hands the answer in,
and the same step runs again, now getting it. The state between steps is JSON.

A run started inside another run's step (a nested chat, a group chat under ``initiate_chat``)
does not wait on its own: the wait travels up to the outermost run, which holds the durable
state and the answers; the inner run keeps its progress and continues from it on replay.
"""

from __future__ import annotations

import contextlib
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

from ._classic import as_dicts
from .chat import ChatResult
from .errors import ChatSuspended, ConfigurationError, HumanInputRequired
from .human_input import HumanReply, collect_human_input, provide_answers
from .llm.cache import ResponseCache
from .llm.client import use_cache
from .llm.usage import Usage, collect_usage
from .messages import Message
from .outcome import Approval, StepMessage, StepOutcome, Stop, StopKind, WaitKind
from .termination import ChatProgress, TerminationCondition

__all__ = ["DurableRun", "HumanInputWait", "Status"]

Status = Literal["running", "waiting", "finished"]

_inside_run: ContextVar[bool] = ContextVar("threadcrew_inside_run", default=False)


@dataclass(frozen=True, slots=True)
class HumanInputWait:
    """What a waiting run waits for: an answer for ``agent`` to ``prompt`` (maybe one of ``choices``).

    ``kind``: a question for people, an approval (answered with an :class:`~agents.Approval`),
    or a choice of the next speaker (one of ``choices``).
    """

    agent: str
    prompt: str
    choices: tuple[str, ...] = ()
    kind: WaitKind = "question"

    def to_json(self) -> dict[str, Any]:
        return {"agent": self.agent, "prompt": self.prompt, "choices": list(self.choices), "kind": self.kind}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HumanInputWait:
        return cls(data["agent"], data["prompt"], tuple(data.get("choices") or ()), data.get("kind", "question"))


class DurableRun(ABC):
    """The shared machinery of :class:`~agents.ChatRun` and :class:`~agents.GroupChatRun`."""

    def __init__(
        self, *, cache: ResponseCache | None = None, termination_condition: TerminationCondition | None = None
    ) -> None:
        self.termination_condition = termination_condition
        self._cache = cache
        self._waiting: HumanInputWait | None = None
        self._answers: dict[str, list[Any]] = {}
        self._usage = Usage()
        self._human_input: list[str] = []
        self._started_at = time.time()
        self._stop_requested = False
        self._stop: Stop | None = None
        self._summary: str | None = None
        self._added: list[StepMessage] = []  # what the step under way added

    # -- what subclasses provide -------------------------------------------------------------------

    @property
    @abstractmethod
    def finished(self) -> bool:
        """Whether the run has reached its end."""

    @abstractmethod
    async def _step(self) -> None:
        """Advance by one step; raise HumanInputRequired to wait (nothing changed before the ask)."""

    @abstractmethod
    def _history(self) -> list[Message]:
        """The chat's messages, as its result and its termination conditions see them."""

    @abstractmethod
    def _end(self, stop: Stop) -> None:
        """Stop taking turns (``stop`` says why); the remaining steps wrap up (the summary)."""

    # -- status ----------------------------------------------------------------------------------------

    @property
    def status(self) -> Status:
        if self.finished:
            return "finished"
        return "waiting" if self._waiting is not None else "running"

    @property
    def waiting(self) -> HumanInputWait | None:
        """What the run waits for, or None."""
        return self._waiting

    @property
    def stop_reason(self) -> str | None:
        """Why the run ended, in words (see :attr:`stop` for the kind)."""
        return self._stop.detail if self._stop is not None else None

    @property
    def stop(self) -> Stop | None:
        """Why the run ended, or None while it goes on."""
        return self._stop

    @property
    def transcript(self) -> list[Message]:
        """The chat's messages so far, typed (``result.chat_history`` has them as AutoGen dicts)."""
        return self._history()

    @property
    def usage(self) -> Usage:
        """Tokens and cost of the run's model calls so far."""
        return self._usage

    def deliver(self, answer: HumanReply | Approval) -> None:
        """Answer what the run waits for; the next :meth:`a_step` / :meth:`a_run` goes on.

        An approval wait takes an :class:`~agents.Approval`; the other waits take text, or
        content parts (text and images) for a question.

        Raises:
            RuntimeError: the run is not waiting.
        """
        if self._waiting is None:
            raise RuntimeError(f"the chat is {self.status}: there is no question to answer")
        kept = answer.to_json() if isinstance(answer, Approval) else answer
        self._answers.setdefault(self._waiting.agent, []).append(kept)
        self._waiting = None

    def request_stop(self) -> None:
        """Stop the run at its next step (a stop button), even while it waits for a human.

        An :class:`~agents.termination.External` condition sees the request too."""
        self._stop_requested = True

    # -- running -----------------------------------------------------------------------------------------

    async def a_advance(self) -> StepOutcome:
        """Advance by one step, as :meth:`a_step`; returns what the step did."""
        ended_before = self._stop is not None
        self._added = []
        status = await self.a_step()
        added, self._added = tuple(self._added), []
        stop = self._stop if self._stop is not None and not ended_before else None
        return StepOutcome(added, status, stop, self._waiting)

    def _add(self, message: StepMessage) -> None:
        """Note that the step under way added ``message`` (for :meth:`a_advance`)."""
        self._added.append(message)

    async def a_step(self) -> Status:
        """Advance by one step, unless the run waits or has finished; returns the status."""
        if self._stop_requested and self._stop is None and not self.finished:
            self._waiting = None
            self._end(Stop(StopKind.STOP_REQUESTED, "stopped: a stop was requested"))
        if self.finished or self._waiting is not None:
            return self.status
        outermost = not _inside_run.get()
        token = _inside_run.set(True)
        try:
            with (
                collect_usage(self._usage),
                collect_human_input(self._human_input),
                use_cache(self._cache),
                provide_answers(self._answers) if outermost else contextlib.nullcontext(),
            ):
                try:
                    await self._step()
                except HumanInputRequired as wait:
                    if not outermost:
                        raise
                    self._waiting = HumanInputWait(wait.agent, wait.prompt, wait.choices, wait.kind)  # type: ignore[arg-type]
        finally:
            _inside_run.reset(token)
        return self.status

    async def a_run(self) -> Status:
        """Step until the chat finishes or waits for a human; returns the status."""
        while await self.a_step() == "running":
            pass
        return self.status

    async def a_run_to_end(self) -> ChatResult:
        """Run to the end.

        Raises:
            ChatSuspended: the run waits for a human; it carries the run.
        """
        if await self.a_run() == "waiting":
            raise ChatSuspended(self)
        return self.result

    @property
    def result(self) -> ChatResult:
        """The chat's result, once it has finished.

        Raises:
            RuntimeError: the run has not finished.
        """
        if not self.finished:
            raise RuntimeError(f"the chat is {self.status}, not finished: run it to the end first")
        return ChatResult(
            chat_id=getattr(self, "chat_id", None),
            chat_history=as_dicts(self._history()),
            summary=self._summary or "",
            cost=self._usage.summary(),
            human_input=list(self._human_input),
            stop_reason=self.stop_reason,
        )

    def _termination(self, messages: Sequence[Message]) -> Stop | None:
        """Why the chat must stop now, by its termination condition, or None."""
        if self.termination_condition is None:
            return None
        progress = ChatProgress(messages, self._usage, self._started_at, self._stop_requested)
        reason = self.termination_condition.check(progress)
        return Stop(StopKind.CONDITION, reason) if reason is not None else None

    # -- durable state --------------------------------------------------------------------------------------

    @staticmethod
    def _check_state(state: Mapping[str, Any], kind: str, version: int) -> None:
        """Raise ConfigurationError unless ``state`` was saved by a run of this kind and version."""
        if state.get("kind") != kind or state.get("version") != version:
            raise ConfigurationError(
                f"this state is not a {kind.replace('_', ' ')} of version {version} "
                f"(kind={state.get('kind')!r}, version={state.get('version')!r})"
            )

    def _common_json(self) -> dict[str, Any]:
        return {
            "waiting": self._waiting.to_json() if self._waiting else None,
            "answers": self._answers,
            "usage": self._usage.to_json(),
            "human_input": self._human_input,
            "started_at": self._started_at,
            "stop_requested": self._stop_requested,
            "stop_reason": self.stop_reason,
            "stop": self._stop.to_json() if self._stop is not None else None,
            "summary": self._summary,
        }

    def _load_common(self, state: dict[str, Any]) -> None:
        self._waiting = HumanInputWait.from_json(state["waiting"]) if state.get("waiting") else None
        self._answers = {k: list(v) for k, v in state["answers"].items()}
        self._usage = Usage.from_json(state["usage"])
        self._human_input = list(state["human_input"])
        self._started_at = float(state["started_at"])
        self._stop_requested = bool(state["stop_requested"])
        stop = state.get("stop")
        if stop is not None:
            self._stop = Stop.from_json(stop)
        elif state["stop_reason"] is not None:  # saved before stops were typed
            self._stop = Stop(StopKind.CONDITION, state["stop_reason"])
        self._summary = state["summary"]
