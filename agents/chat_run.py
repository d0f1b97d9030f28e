"""A two-agent chat as a resumable state machine.

:class:`ChatRun` drives what ``initiate_chat`` does, one step at a time: the first message,
then replies in turn, then the summary. Between steps its whole state (every agent's
histories and counters, the turn, what it waits for, usage so far) is a JSON value:
:meth:`ChatRun.to_json` / :meth:`ChatRun.from_json`. When an agent asks a human who has not
answered, the run waits (see :mod:`agents._run`); a run rebuilt in another process from the
JSON and the same agent definitions continues exactly as an uninterrupted run would have.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, cast

from ._run import DurableRun, HumanInputWait
from .agent import Agent
from .chat import a_summarize, check_summary_method
from .conversable_agent import ConversableAgent
from .errors import ConfigurationError
from .llm.cache import ResponseCache
from .messages import Message, MessageLike
from .outcome import Stop, StopKind
from .termination import TerminationCondition

__all__ = ["ChatRun", "HumanInputWait", "converse", "reply_step", "restore_team", "team_states"]

STATE_VERSION = 2

_Phase = Literal["prepare", "init", "sender", "recipient", "summary", "done"]


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


def team_states(*roots: ConversableAgent) -> dict[str, Any]:
    """The state of every agent reachable from ``roots`` (group-chat members included), by name."""
    states: dict[str, Any] = {}
    pending = list(roots)
    while pending:
        agent = pending.pop()
        if agent.name not in states:
            states[agent.name] = agent.get_state()
            pending.extend(agent.team_members())
    return states


def restore_team(states: Mapping[str, Any], agents: Iterable[ConversableAgent]) -> dict[str, ConversableAgent]:
    """Load saved states into freshly built agents (members of the given teams included).

    Raises:
        ConfigurationError: the states name an agent that is not among them.
    """
    team: dict[str, ConversableAgent] = {}
    pending = list(agents)
    while pending:
        agent = pending.pop()
        if agent.name not in team:
            team[agent.name] = agent
            pending.extend(agent.team_members())
    missing = sorted(set(states) - set(team))
    if missing:
        raise ConfigurationError(f"the saved chat names agents that are not among the agents given: {missing}")
    for name, state in states.items():
        team[name].set_state(state, team)
    return team


class ChatRun(DurableRun):
    """One chat between ``sender`` and ``recipient``, stepped to its end or to a wait.

    Takes the arguments of :meth:`ConversableAgent.initiate_chat`, plus
    ``termination_condition`` (see :mod:`agents.termination`).

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
        termination_condition: TerminationCondition | None = None,
        **context: Any,
    ) -> None:
        check_summary_method(summary_method, sender, recipient)
        if max_turns is not None and (not isinstance(max_turns, int) or max_turns < 0):
            raise ConfigurationError(f"max_turns must be a non-negative int or None, not {max_turns!r}")
        super().__init__(cache=cache, termination_condition=termination_condition)
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
        self._phase: _Phase = "prepare"
        self._turns = 0

    @property
    def finished(self) -> bool:
        return self._phase == "done"

    def _history(self) -> list[Message]:
        return list(self.sender.chat_messages[self.recipient])

    def _end(self, stop: Stop) -> None:
        self._stop = stop
        self._phase = "summary"

    async def _step(self) -> None:
        sender, recipient = self.sender, self.recipient
        if self._phase == "prepare":
            self._prepare()
            self._phase = "init"
        elif self._phase == "init":
            if self.max_turns == 0:
                self._end(Stop(StopKind.MAX_ROUND, "max_turns (0) reached"))
                return
            first = await self._first_message()
            await sender.a_send(first, recipient, request_reply=False, silent=self.silent)
            self._turns = 1
            self._after_message("recipient")
        elif self._phase == "recipient":
            if await reply_step(recipient, sender, silent=self.silent):
                if self.max_turns is None and not sender.reply_at_receive[recipient]:
                    self._end(Stop(StopKind.NO_REPLY, f"{sender.name} does not reply to {recipient.name}"))
                else:
                    self._after_message("sender")
            elif self.max_turns is None:
                self._end(recipient.take_stop())
            else:
                recipient.take_stop_reason()
                self._phase = "sender"
        elif self._phase == "sender":
            if self.max_turns is not None and self._turns >= self.max_turns:
                self._end(Stop(StopKind.MAX_ROUND, f"max_turns ({self.max_turns}) reached"))
                return
            if not await reply_step(sender, recipient, silent=self.silent):
                self._end(sender.take_stop())
            elif self.max_turns is None and not recipient.reply_at_receive[sender]:
                self._end(Stop(StopKind.NO_REPLY, f"{recipient.name} does not reply to {sender.name}"))
            else:
                self._turns += 1
                self._after_message("recipient")
        elif self._phase == "summary":
            self._summary = await a_summarize(self.summary_method, self.summary_args, sender, recipient)
            self._phase = "done"

    def _after_message(self, next_phase: _Phase) -> None:
        stop = self._termination(self._history())
        if stop is not None:
            self._end(stop)
        else:
            self._phase = next_phase

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
            **self._common_json(),
            "agents": team_states(self.sender, self.recipient),
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
        termination_condition: TerminationCondition | None = None,
    ) -> ChatRun:
        """Rebuild a run from :meth:`to_json` onto freshly built agents.

        Args:
            state: what ``to_json`` returned (after a JSON round trip).
            agents: the agents, built from the same definitions (a group chat manager brings
                its members).
            summary_method: the callable summary method, when the run used one.
            message: the callable first message, when the run used one and had not sent it.
            cache: the response cache, when the run used one.
            termination_condition: the run's termination condition, when it had one.

        Raises:
            ConfigurationError: the state is of another kind or version, or names an agent
                that ``agents`` does not hold.
        """
        cls._check_state(state, "two_agent_chat", STATE_VERSION)
        team = restore_team(state["agents"], agents)
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
            termination_condition=termination_condition,
            chat_id=state["chat_id"],
            **state["context"],
        )
        run._phase = state["phase"]
        run._turns = state["turns"]
        run._load_common(dict(state))
        return run
