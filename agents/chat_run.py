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
from .agent import AGENT_METHODS, Agent, Conversable, is_conversable
from .chat import a_summarize, check_summary_method
from .errors import ConfigurationError
from .llm.cache import ResponseCache
from .message_lists import MessageLists, inline
from .messages import Message, MessageLike
from .outcome import Stop, StopKind
from .termination import TerminationCondition

__all__ = ["ChatRun", "HumanInputWait", "check_peer", "converse", "reply_step", "restore_team", "team_states"]

STATE_VERSION = 2

_Phase = Literal["prepare", "init", "sender", "recipient", "summary", "done"]


async def reply_step(speaker: Conversable, listener: Agent, *, silent: bool | None) -> bool:
    """``speaker`` replies to its history with ``listener``; False when it has nothing to say.

    A ``listener`` that is not of this framework (a user-defined :class:`~agents.Agent`) gets
    the reply as AutoGen delivers it, deciding itself whether to answer (and answering by
    sending back, which goes on in :meth:`a_receive`).
    """
    reply = await speaker.a_generate_reply(messages=speaker.histories[listener], sender=listener)
    if reply is None:
        return False
    request_reply = False if is_conversable(listener) else None
    await speaker.a_send(reply, listener, request_reply=request_reply, silent=silent)
    return True


async def converse(replier: Conversable, other: Agent, *, silent: bool | None) -> None:
    """Reply back and forth while each receiver is set to reply (AutoGen's receive chain, as a loop)."""
    speaker: Conversable = replier
    while await reply_step(speaker, other, silent=silent):
        if not is_conversable(other):
            return  # it answered (or not) inside its a_receive
        listener = cast(Conversable, other)
        if not listener.reply_at_receive[speaker]:
            return
        speaker, other = listener, speaker


def check_peer(agent: object, role: str) -> Agent:
    """``agent`` if it can be a chat peer; else a ConfigurationError naming what it lacks.

    Raises:
        ConfigurationError: not an agent, or an agent whose class leaves an ``Agent`` method unimplemented.
    """
    if is_conversable(agent):
        return cast(Agent, agent)
    missing = [] if isinstance(getattr(agent, "name", None), str) else ["name"]
    cls = type(agent)
    for method in AGENT_METHODS:
        found = getattr(cls, method, None)
        if not callable(found) or found is getattr(Agent, method):
            missing.append(method)
    if missing:
        raise ConfigurationError(
            f"the {role} {agent!r} cannot take part in a chat: {cls.__name__} does not implement "
            f"{', '.join(missing)}. A chat peer implements the Agent protocol: name, description, "
            "a_send, a_receive and a_generate_reply (or subclass ConversableAgent)."
        )
    return cast(Agent, agent)


def team_states(*roots: Agent, lists: MessageLists = inline) -> dict[str, Any]:
    """The state of every agent reachable from ``roots`` (group-chat members included), by name;
    each message list is what ``lists`` makes of it (see :mod:`agents.message_lists`).

    Agents that are not of this framework keep their own state and are left out.
    """
    states: dict[str, Any] = {}
    pending = [cast(Conversable, a) for a in roots if is_conversable(a)]
    while pending:
        agent = pending.pop()
        if agent.name not in states:
            states[agent.name] = agent.get_state(lists)
            pending.extend(agent.team_members())
    return states


def restore_team(states: Mapping[str, Any], agents: Iterable[Agent]) -> dict[str, Agent]:
    """Load saved states into freshly built agents (members of the given teams included).

    Raises:
        ConfigurationError: the states name an agent that is not among them.
    """
    team: dict[str, Agent] = {}
    pending = list(agents)
    while pending:
        agent = pending.pop()
        if agent.name not in team:
            team[agent.name] = agent
            if is_conversable(agent):
                pending.extend(cast(Conversable, agent).team_members())
    missing = sorted(set(states) - set(team))
    if missing:
        raise ConfigurationError(f"the saved chat names agents that are not among the agents given: {missing}")
    for name, state in states.items():
        cast(Conversable, team[name]).set_state(state, team)
    return team


class ChatRun(DurableRun):
    """One chat between ``sender`` and ``recipient``, stepped to its end or to a wait.

    Takes the arguments of :meth:`ConversableAgent.initiate_chat`, plus
    ``termination_condition`` (see :mod:`agents.termination`).

    The recipient may be any :class:`~agents.Agent`: one that is not of this framework gets
    the first message as AutoGen delivers it and the chat goes on through its ``a_receive``
    (in one step, as AutoGen's receive chain; only this framework's agents suspend and resume).

    Raises:
        ConfigurationError: an unsupported summary method, a bad ``max_turns``, or a
            recipient that does not implement the Agent protocol.
    """

    def __init__(
        self,
        sender: Conversable,
        recipient: Agent,
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
        check_peer(recipient, "recipient")
        check_summary_method(summary_method, sender, recipient)
        if max_turns is not None and (not isinstance(max_turns, int) or max_turns < 0):
            raise ConfigurationError(f"max_turns must be a non-negative int or None, not {max_turns!r}")
        super().__init__(cache=cache, termination_condition=termination_condition)
        self.sender = sender
        self.recipient = recipient
        self._peer = cast(Conversable, recipient) if is_conversable(recipient) else None
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
        return list(self.sender.histories[self.recipient])

    def _end(self, stop: Stop) -> None:
        self._stop = stop
        self._phase = "summary"

    async def _step(self) -> None:
        sender, recipient, peer = self.sender, self.recipient, self._peer
        if self._phase == "prepare":
            self._prepare()
            self._phase = "init"
        elif self._phase == "init":
            if self.max_turns == 0:
                self._end(Stop(StopKind.MAX_ROUND, "max_turns (0) reached"))
                return
            first = await self._first_message()
            if peer is None:
                await sender.a_send(first, recipient, request_reply=True, silent=self.silent)
                self._end(Stop(StopKind.NO_REPLY, f"{recipient.name} stopped answering"))
                return
            await sender.a_send(first, recipient, request_reply=False, silent=self.silent)
            self._turns = 1
            self._after_message("recipient")
        elif self._phase == "recipient":
            assert peer is not None
            if await reply_step(peer, sender, silent=self.silent):
                if self.max_turns is None and not sender.reply_at_receive[recipient]:
                    self._end(Stop(StopKind.NO_REPLY, f"{sender.name} does not reply to {recipient.name}"))
                else:
                    self._after_message("sender")
            elif self.max_turns is None:
                self._end(peer.take_stop())
            else:
                peer.take_stop_reason()
                self._phase = "sender"
        elif self._phase == "sender":
            if self.max_turns is not None and self._turns >= self.max_turns:
                self._end(Stop(StopKind.MAX_ROUND, f"max_turns ({self.max_turns}) reached"))
                return
            if not await reply_step(sender, recipient, silent=self.silent):
                self._end(sender.take_stop())
            elif self.max_turns is None and peer is not None and not peer.reply_at_receive[sender]:
                self._end(Stop(StopKind.NO_REPLY, f"{recipient.name} does not reply to {sender.name}"))
            else:
                self._turns += 1
                self._after_message("recipient")
        elif self._phase == "summary":
            history = peer.histories[sender] if peer is not None else sender.histories[recipient]
            self._summary = await a_summarize(self.summary_method, self.summary_args, sender, recipient, history)
            self._phase = "done"

    def _after_message(self, next_phase: _Phase) -> None:
        stop = self._termination(self._history())
        if stop is not None:
            self._end(stop)
        else:
            self._phase = next_phase

    def _prepare(self) -> None:
        reply_at_receive = self.max_turns is None
        pairs: list[tuple[Conversable, Agent]] = [(self.sender, self.recipient)]
        if self._peer is not None:
            pairs.append((self._peer, self.sender))
        for me, peer in pairs:
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
        agents: Iterable[Agent],
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
            cast(Conversable, team[state["sender"]]),
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
