"""A two-agent chat as a resumable state machine.

:class:`ChatRun` drives what ``initiate_chat`` does, one step at a time: the first message,
then replies in turn, then the summary. Between steps its whole state (both agents'
histories and counters, the turn, what it waits for, usage so far) is a JSON value:
:meth:`ChatRun.to_json` / :meth:`ChatRun.from_json`.

When an agent asks a human and its source has no answer yet (a
:class:`~agents.human_input.DeferredInput`), the step stops and the run *waits*. The caller
saves the state and returns; when a person answers, :meth:`ChatRun.deliver` hands the
answer in, and :meth:`ChatRun.a_run` generates the same step again, which now gets its
answer. A run rebuilt in another process from the JSON and the same agent definitions
continues exactly as an uninterrupted run would have.
"""

from __future__ import annotations

import contextlib
import inspect
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal, cast

from .agent import Agent
from .chat import ChatResult, a_summarize, check_summary_method
from .conversable_agent import ConversableAgent
from .errors import ChatSuspended, ConfigurationError, HumanInputRequired
from .human_input import collect_human_input, provide_answers
from .llm.cache import ResponseCache
from .llm.client import use_cache
from .llm.usage import Usage, collect_usage
from .messages import Message, MessageLike

__all__ = ["ChatRun", "HumanInputWait", "converse", "reply_step"]

STATE_VERSION = 1

Status = Literal["running", "waiting", "finished"]
_Phase = Literal["prepare", "init", "sender", "recipient", "summary", "done"]


_inside_run: ContextVar[bool] = ContextVar("threadcrew_inside_chat_run", default=False)


@dataclass(frozen=True, slots=True)
class HumanInputWait:
    """What a waiting run waits for: an answer for ``agent`` to ``prompt``."""

    agent: str
    prompt: str


async def reply_step(speaker: Agent, listener: Agent, *, silent: bool | None) -> bool:
    """``speaker`` replies to its history with ``listener``; False when it has nothing to say."""
    assert isinstance(speaker, ConversableAgent)
    reply = await speaker.a_generate_reply(messages=speaker.chat_messages[listener], sender=listener)
    if reply is None:
        return False
    await speaker.a_send(reply, listener, request_reply=False, silent=silent)
    return True


async def converse(replier: ConversableAgent, other: Agent, *, silent: bool | None) -> None:
    """Reply back and forth while each receiver is set to reply (AutoGen's receive chain, as a loop)."""
    speaker: Agent = replier
    while await reply_step(speaker, other, silent=silent):
        assert isinstance(other, ConversableAgent)
        if not other.reply_at_receive[speaker]:
            return
        speaker, other = other, speaker


class ChatRun:
    """One chat between ``sender`` and ``recipient``, stepped to its end or to a wait.

    Takes the arguments of :meth:`ConversableAgent.initiate_chat`.

    Raises:
        ConfigurationError: an unsupported summary method or a bad ``max_turns``.
    """

    def __init__(
        self,
        sender: ConversableAgent,
        recipient: ConversableAgent,
        *,
        clear_history: bool = True,
        silent: bool | None = False,
        cache: ResponseCache | None = None,
        max_turns: int | None = None,
        summary_method: str | Callable[..., Any] | None = "last_msg",
        summary_args: Mapping[str, Any] | None = None,
        message: MessageLike | Callable[..., Any] | None = None,
        **context: Any,
    ) -> None:
        check_summary_method(summary_method, sender, recipient)
        if max_turns is not None and (not isinstance(max_turns, int) or max_turns < 0):
            raise ConfigurationError(f"max_turns must be a non-negative int or None, not {max_turns!r}")
        self.sender = sender
        self.recipient = recipient
        self.chat_id = context.pop("chat_id", None)
        if self.chat_id is None:
            self.chat_id = uuid.uuid4().hex
        self.context = context
        self.clear_history = clear_history
        self.silent = silent
        self.max_turns = max_turns
        self.summary_method = summary_method
        self.summary_args = dict(summary_args or {})
        self.message = message
        self._cache = cache
        self._phase: _Phase = "prepare"
        self._turns = 0
        self._waiting: HumanInputWait | None = None
        self._answers: dict[str, list[str]] = {}
        self._usage = Usage()
        self._human_input: list[str] = []
        self._summary: str | None = None

    # -- status ---------------------------------------------------------------------------------

    @property
    def status(self) -> Status:
        if self._phase == "done":
            return "finished"
        return "waiting" if self._waiting is not None else "running"

    @property
    def waiting(self) -> HumanInputWait | None:
        """What the run waits for, or None."""
        return self._waiting

    @property
    def result(self) -> ChatResult:
        """The chat's result, once it has finished.

        Raises:
            RuntimeError: the run has not finished.
        """
        if self._phase != "done":
            raise RuntimeError(f"the chat is {self.status}, not finished: run it to the end first")
        return ChatResult(
            chat_id=self.chat_id,
            chat_history=list(self.sender.chat_messages[self.recipient]),
            summary=self._summary or "",
            cost=self._usage.summary(),
            human_input=list(self._human_input),
        )

    def deliver(self, answer: str) -> None:
        """Answer what the run waits for; :meth:`a_run` then goes on.

        Raises:
            RuntimeError: the run is not waiting.
        """
        if self._waiting is None:
            raise RuntimeError(f"the chat is {self.status}: there is no question to answer")
        self._answers.setdefault(self._waiting.agent, []).append(answer)
        self._waiting = None

    # -- running ----------------------------------------------------------------------------------

    async def a_run(self) -> Status:
        """Step until the chat finishes or waits for a human; returns the status.

        A run started inside another run's step (a nested chat) does not wait on its own: the
        wait travels up to the outermost run, which holds the durable state and the answers,
        and the nested chat runs again when the step is replayed.
        """
        if self._waiting is not None:
            return "waiting"
        outermost = not _inside_run.get()
        token = _inside_run.set(True)
        try:
            with (
                collect_usage(self._usage),
                collect_human_input(self._human_input),
                use_cache(self._cache),
                provide_answers(self._answers) if outermost else contextlib.nullcontext(),
            ):
                while self._phase != "done":
                    try:
                        await self._step()
                    except HumanInputRequired as wait:
                        if not outermost:
                            raise
                        self._waiting = HumanInputWait(wait.agent, wait.prompt)
                        return "waiting"
        finally:
            _inside_run.reset(token)
        return "finished"

    async def a_run_to_end(self) -> ChatResult:
        """Run to the end.

        Raises:
            ChatSuspended: the run waits for a human; it carries the run.
        """
        if await self.a_run() == "waiting":
            raise ChatSuspended(self)
        return self.result

    async def _step(self) -> None:
        sender, recipient = self.sender, self.recipient
        if self._phase == "prepare":
            self._prepare()
            self._phase = "init"
        elif self._phase == "init":
            if self.max_turns == 0:
                self._phase = "summary"
                return
            first = await self._first_message()
            await sender.a_send(first, recipient, request_reply=False, silent=self.silent)
            self._turns = 1
            self._phase = "recipient"
        elif self._phase == "recipient":
            sent = await reply_step(recipient, sender, silent=self.silent)
            if self.max_turns is None and not (sent and sender.reply_at_receive[recipient]):
                self._phase = "summary"
            else:
                self._phase = "sender"
        elif self._phase == "sender":
            if self.max_turns is not None and self._turns >= self.max_turns:
                self._phase = "summary"
                return
            sent = await reply_step(sender, recipient, silent=self.silent)
            if not sent or (self.max_turns is None and not recipient.reply_at_receive[sender]):
                self._phase = "summary"
                return
            self._turns += 1
            self._phase = "recipient"
        elif self._phase == "summary":
            self._summary = await a_summarize(self.summary_method, self.summary_args, sender, recipient)
            self._phase = "done"

    def _prepare(self) -> None:
        sender, recipient = self.sender, self.recipient
        reply_at_receive = self.max_turns is None
        for me, peer in ((sender, recipient), (recipient, sender)):
            me.reset_consecutive_auto_reply_counter(peer)
            me.reply_at_receive[peer] = reply_at_receive
            if self.clear_history:
                me.clear_history(peer)

    async def _first_message(self) -> MessageLike:
        if callable(self.message):
            result = self.message(self.sender, self.recipient, self.context)
            return cast(MessageLike, await result if inspect.isawaitable(result) else result)
        return await self.sender.a_generate_init_message(self.message, **self.context)

    # -- durable state ----------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The run's whole state as JSON-ready data (agent definitions not included).

        A callable first message or summary method is not part of it: give it to
        :meth:`from_json` again. The context (``carryover`` and the like) must be JSON.
        """
        message = self.message if self._phase in ("prepare", "init") and not callable(self.message) else None
        if isinstance(message, Message):
            message = message.to_dict()
        return {
            "version": STATE_VERSION,
            "kind": "two_agent_chat",
            "chat_id": self.chat_id,
            "sender": self.sender.name,
            "recipient": self.recipient.name,
            "clear_history": self.clear_history,
            "silent": self.silent,
            "max_turns": self.max_turns,
            "summary_method": self.summary_method if isinstance(self.summary_method, str) else None,
            "summary_args": self.summary_args,
            "message": message,
            "context": self.context,
            "phase": self._phase,
            "turns": self._turns,
            "waiting": {"agent": self._waiting.agent, "prompt": self._waiting.prompt} if self._waiting else None,
            "answers": self._answers,
            "usage": self._usage.to_json(),
            "human_input": self._human_input,
            "summary": self._summary,
            "agents": {a.name: a.get_state() for a in (self.sender, self.recipient)},
        }

    @classmethod
    def from_json(
        cls,
        state: Mapping[str, Any],
        agents: Iterable[ConversableAgent],
        *,
        summary_method: str | Callable[..., Any] | None = None,
        message: MessageLike | Callable[..., Any] | None = None,
        cache: ResponseCache | None = None,
    ) -> ChatRun:
        """Rebuild a run from :meth:`to_json` onto freshly built agents.

        Args:
            state: what ``to_json`` returned (after a JSON round trip).
            agents: every agent the saved histories name, built from the same definitions.
            summary_method: the callable summary method, when the run used one.
            message: the callable first message, when the run used one and had not sent it.
            cache: the response cache, when the run used one.

        Raises:
            ConfigurationError: the state is of another kind or version, or names an agent
                that ``agents`` does not hold.
        """
        if state.get("kind") != "two_agent_chat" or state.get("version") != STATE_VERSION:
            raise ConfigurationError(
                f"this state is not a two-agent chat of version {STATE_VERSION} "
                f"(kind={state.get('kind')!r}, version={state.get('version')!r})"
            )
        team = {agent.name: agent for agent in agents}
        for role in ("sender", "recipient"):
            if state[role] not in team:
                raise ConfigurationError(f"the saved chat's {role} {state[role]!r} is not among the agents given")
        for name, agent_state in state["agents"].items():
            team[name].set_state(agent_state, team)
        run = cls(
            team[state["sender"]],
            team[state["recipient"]],
            clear_history=state["clear_history"],
            silent=state["silent"],
            cache=cache,
            max_turns=state["max_turns"],
            summary_method=summary_method if summary_method is not None else state["summary_method"],
            summary_args=state["summary_args"],
            message=message if message is not None else state["message"],
            chat_id=state["chat_id"],
            **state["context"],
        )
        run._phase = state["phase"]
        run._turns = state["turns"]
        waiting = state["waiting"]
        run._waiting = HumanInputWait(waiting["agent"], waiting["prompt"]) if waiting else None
        run._answers = {k: list(v) for k, v in state["answers"].items()}
        run._usage = Usage.from_json(state["usage"])
        run._human_input = list(state["human_input"])
        run._summary = state["summary"]
        return run
