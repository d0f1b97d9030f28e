"""A group chat as a resumable state machine.

Each round has three steps, and the state between any two of them is JSON:

- *deliver*: record the latest message and pass it to every other participant; stop on a
  termination message, a termination condition, or the last round (``max_round`` counts
  messages, the first one included, as in AutoGen);
- *select*: choose the next speaker (a person who names or @mentions an agent chooses first);
- *speak*: the chosen agent replies (asking its human may make the run wait here).

:class:`GroupChatRun` is used directly (a thread runtime steps it and posts each message) or
through AutoGen's API: ``user.initiate_chat(manager, message=...)``, where the manager's
``run_chat`` drives one and keeps its progress, so that a wait for a human inside the group
chat resumes at the same speaker, in this process or another.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

from .._run import DurableRun
from ..agent import Agent, Conversable, is_conversable
from ..chat import a_summarize
from ..chat_run import restore_team, team_states
from ..errors import ConfigurationError, HumanInputRequired
from ..human_input import HumanReply, collect_human_input
from ..llm.cache import ResponseCache
from ..llm.usage import Usage, collect_usage
from ..message_lists import MessageLists, inline
from ..messages import Message, MessageLike
from ..outcome import (
    CallsUsage,
    CodeRun,
    MessageKind,
    SpeakerChoice,
    StepMessage,
    Stop,
    StopKind,
    collect_code_results,
    collect_speaker_selections,
)
from ..termination import TerminationCondition
from .groupchat import GroupChat, NoEligibleSpeaker

if TYPE_CHECKING:
    from ..conversable import ConversableAgent

__all__ = ["GroupChatHost", "GroupChatRun"]

STATE_VERSION = 1

_Phase = Literal["open", "introduce", "deliver", "select", "speak", "summary", "done"]


class GroupChatHost(Conversable, Protocol):
    """What a group chat run needs of its manager (:class:`~agents.GroupChatManager` is one)."""

    @property
    def groupchat(self) -> GroupChat: ...

    @property
    def termination_condition(self) -> TerminationCondition | None: ...

    @property
    def run_chat_silent(self) -> bool: ...


class GroupChatRun(DurableRun):
    """One group chat: ``sender`` says ``message`` to ``manager``'s group, which takes it from there.

    Args:
        manager: the group's manager.
        message: the first message.
        sender: who says it (a participant or not); by default the manager's first agent.
        silent: do not print the messages.
        summary_method: "last_msg", "reflection_with_llm" (the manager's model) or
            ``f(sender, manager, summary_args)``.
        termination_condition: stops the chat (default: the manager's).
        from_human: whether a person wrote ``message``, so that naming an agent in it picks
            the first speaker (default: the sender asks a human, its mode is not "NEVER").
        cache: a response cache for the chat's model calls.
    """

    def __init__(
        self,
        manager: GroupChatHost,
        message: MessageLike | None = None,
        sender: ConversableAgent | None = None,
        *,
        silent: bool | None = False,
        summary_method: str | Callable[..., Any] | None = "last_msg",
        summary_args: Mapping[str, Any] | None = None,
        termination_condition: TerminationCondition | None = None,
        from_human: bool | None = None,
        cache: ResponseCache | None = None,
    ) -> None:
        super().__init__(cache=cache, termination_condition=termination_condition or manager.termination_condition)
        self.manager = manager
        self.sender = sender or manager.groupchat.agents[0]
        self.message = message
        self.silent = silent
        self.summary_method = summary_method
        self.summary_args = dict(summary_args or {})
        self.key = ""
        self._phase: _Phase = "open"
        self._round = 0
        self._speaker = self.sender.name
        self._next: str | None = None
        self._pending: Message | None = None
        self._steer = from_human if from_human is not None else self.sender.human_input_mode != "NEVER"
        self._human_indices: list[int] = []
        self._injected: list[HumanReply] = []
        # The code run behind the reply about to be delivered (its author, and its result: None
        # when the code was refused). Speaking and delivering happen in one step: not saved.
        self._code_run: CodeRun | None = None
        # What the reply about to be delivered cost (same step: not saved), and how a model chose
        # its speaker (saved: a wait for a person may come between the choice and the reply).
        self._reply_usage: CallsUsage | None = None
        self._selection: SpeakerChoice | None = None

    @classmethod
    def continuing(cls, manager: GroupChatHost, sender: ConversableAgent, key: str) -> GroupChatRun:
        """The run behind ``manager.run_chat``: ``sender``'s message is already in the manager's history."""
        run = cls(manager, None, sender, silent=manager.run_chat_silent)
        run.key = key
        run._pending = manager.histories[sender][-1]
        run._phase = "introduce"
        return run

    @property
    def groupchat(self) -> GroupChat:
        return self.manager.groupchat

    @property
    def transcript(self) -> list[Message]:
        """The group chat's messages, typed (what ``groupchat.messages`` shows as dicts)."""
        return self.manager.groupchat.transcript

    @property
    def finished(self) -> bool:
        return self._phase == "done"

    @property
    def rounds(self) -> int:
        """Messages delivered so far."""
        return self._round

    @property
    def message_count(self) -> int:
        """Messages in the group chat's transcript (earlier runs' included)."""
        return len(self.transcript)

    @property
    def human_indices(self) -> list[int]:
        """Positions in the group chat's messages of what people typed (not agents' replies)."""
        return list(self._human_indices)

    def inject(self, said: HumanReply) -> None:
        """A person (through the sender, the people's agent) says ``said`` while the agents work.

        ``said`` is text, or content parts (text and images). It is delivered at the next turn,
        before the next speaker is chosen, and may steer the choice (naming an agent picks it).
        It waits in the run's state.
        """
        self._injected.append(said)

    def _history(self) -> list[Message]:
        return list(self.transcript)

    def _end(self, stop: Stop) -> None:
        self._stop = stop
        self._phase = "summary"

    def _agent(self, name: str) -> ConversableAgent:
        for agent in (*self.groupchat.agents, self.sender, self.manager):
            if agent.name == name:
                return cast("ConversableAgent", agent)
        raise ConfigurationError(f"the group chat has no agent called {name!r}")

    # -- the steps ----------------------------------------------------------------------------------

    async def _step(self) -> None:
        """One message: chosen, spoken and delivered to everyone (or the summary, at the end).

        The phases inside a step are kept in the state, so a wait for a human in the middle
        of one (a person's turn, an approval) resumes in that phase, not from its start.
        """
        while True:
            phase = self._phase
            await self._phase_step()
            if phase in ("deliver", "summary") or self._phase in ("summary", "done"):
                return

    async def _phase_step(self) -> None:
        if self._phase == "open":
            if self.message is None:
                raise ConfigurationError("a group chat run needs a first message")
            await self.sender.a_send(self.message, self.manager, request_reply=False, silent=self.silent)
            self._pending = self.manager.histories[self.sender][-1]
            self._phase = "introduce"
        elif self._phase == "introduce":
            if self.groupchat.send_introductions:
                intro = self.groupchat.introductions_msg()
                for agent in self.groupchat.agents:
                    await self.manager.a_send(intro, agent, request_reply=False, silent=True)
            self._phase = "deliver"
        elif self._phase == "deliver":
            await self._deliver()
        elif self._phase == "select":
            await self._select()
        elif self._phase == "speak":
            await self._speak()
        elif self._phase == "summary":
            self._summary = await self._summarize()
            self._phase = "done"

    async def _deliver(self) -> None:
        assert self._pending is not None
        speaker = self._agent(self._speaker)
        self.groupchat.append(self._pending, speaker)
        if self._steer:
            self._human_indices.append(len(self.transcript) - 1)
        self._add(self._step_message(self._pending, speaker.name))
        for agent in self.groupchat.agents:
            if agent is not speaker:
                await self.manager.a_send(self._pending, agent, request_reply=False, silent=True)
        if self.manager.is_termination(self._pending):
            self._end(Stop(StopKind.TERMINATION_MESSAGE, f"termination message from {speaker.name}"))
        elif (stop := self._termination(self.transcript)) is not None:
            self._end(stop)
        elif self._round >= self.groupchat.max_round - 1:
            self._end(Stop(StopKind.MAX_ROUND, f"max_round ({self.groupchat.max_round}) reached"))
        else:
            self._phase = "select"

    def _step_message(self, message: Message, author: str) -> StepMessage:
        """``message`` as the outcome reports it; a code result takes its run's exit code and files,
        a reply what its model calls cost and how a model chose its speaker."""
        run = self._code_run[1] if self._code_run is not None and self._code_run[0] == author else None
        chosen = self._selection if self._selection is not None and self._selection.chosen == author else None
        usage, self._code_run, self._reply_usage, self._selection = self._reply_usage, None, None, None
        if isinstance(run, str):  # refused
            return StepMessage(message, author, "code_result", self._steer, output=run, usage=usage, selection=chosen)
        if run is not None:
            files = tuple(run.files)
            added = StepMessage(message, author, "code_result", self._steer, run.exit_code, run.output, files)
            return dataclasses.replace(added, usage=usage, selection=chosen)
        kind: MessageKind = "tool_call" if message.tool_calls else "tool_result" if message.tool_responses else "text"
        return StepMessage(message, author, kind, by_human=self._steer, usage=usage, selection=chosen)

    async def _select(self) -> None:
        if self._injected:
            said = self._injected[0]
            message = said if isinstance(said, str) else {"content": said, "role": "user"}
            await self.sender.a_send(message, self.manager, request_reply=False, silent=self.silent)
            self._injected.pop(0)
            self._pending = self.manager.histories[self.sender][-1]
            self._speaker = self.sender.name
            self._steer = True
            self._round += 1
            self._phase = "deliver"
            return
        speaker = self._agent(self._speaker)
        chosen = self._steered_by_human() if self._steer else None
        if chosen is not None:
            self._selection = SpeakerChoice(chosen.name, "named")
        else:
            spent, chosen_by_model = Usage(), list[SpeakerChoice]()
            try:
                with collect_usage(spent), collect_speaker_selections(chosen_by_model):
                    chosen = await self.groupchat.a_select_speaker(speaker, cast("ConversableAgent", self.manager))
            except NoEligibleSpeaker as exc:
                self._end(Stop(StopKind.NO_SPEAKER, str(exc)))
                return
            except HumanInputRequired as wait:  # a person picks the next speaker
                raise HumanInputRequired(wait.agent, wait.prompt, wait.choices, "speaker") from None
            if chosen_by_model:
                self._selection = dataclasses.replace(chosen_by_model[-1], usage=CallsUsage.of(spent))
            else:
                self._selection = SpeakerChoice(chosen.name, self._chosen_how(speaker))
        if not self.silent:
            print(f"\nNext speaker: {chosen.name}\n", flush=True)
        self._next = chosen.name
        self._phase = "speak"

    def _chosen_how(self, last_speaker: Agent) -> str:
        """How the group chat chose without a model (see :class:`SpeakerChoice`)."""
        method = self.groupchat.speaker_selection_method
        if callable(method):
            return "function"
        if len(self.groupchat.eligible_agents(last_speaker)) == 1:
            return "only"
        return {"manual": "person"}.get(method.lower(), method.lower())

    def _steered_by_human(self) -> Any:
        """The agent a person's message names: the first @mention, else the first name; or None.
        The message is read as the selector sees it (:meth:`GroupChat.selection_view`)."""
        assert self._pending is not None
        text = self.groupchat.selection_view(self._pending).text
        best: tuple[tuple[int, int], Any] | None = None
        for agent in self.groupchat.agents:
            if agent.name == self._speaker:
                continue
            at = re.search(rf"@{re.escape(agent.name)}\b", text)
            position = at.start() if at else self.groupchat.first_mention(text, agent)
            if position < 0:
                continue
            rank = (0 if at else 1, position)
            if best is None or rank < best[0]:
                best = (rank, agent)
        return best[1] if best else None

    async def _speak(self) -> None:
        assert self._next is not None
        agent = self._agent(self._next)
        typed: list[str] = []
        ran: list[CodeRun] = []
        spent = Usage()
        with collect_human_input(typed), collect_code_results(ran), collect_usage(spent):
            reply = await agent.a_generate_reply(sender=self.manager)
        self._reply_usage = CallsUsage.of(spent)
        if reply is None:
            no_reply = Stop(StopKind.NO_REPLY, f"{agent.name} had no reply")
            self._end(agent.take_stop() if is_conversable(agent) else no_reply)
            return
        runs = [result for name, result in ran if name == agent.name]
        self._code_run = (agent.name, runs[-1]) if runs else None
        heard = self.manager.histories[agent]
        before = len(heard)
        await agent.a_send(reply, self.manager, request_reply=False, silent=self.silent)
        if len(heard) == before:  # a user-defined agent whose a_send does not deliver
            raise ConfigurationError(
                f"{agent.name}.a_send did not deliver its reply to {self.manager.name}: an Agent's a_send "
                "must call recipient.a_receive(message, self, request_reply, silent)"
            )
        self._pending = heard[-1]
        self._speaker = agent.name
        self._steer = any(typed)  # a person wrote this message (the agent's human answered)
        self._round += 1
        self._phase = "deliver"

    async def _summarize(self) -> str:
        """The summary: the same code path as a two-agent chat's, over the group's transcript."""
        return await a_summarize(self.summary_method, self.summary_args, self.sender, self.manager, self.transcript)

    # -- durable state ------------------------------------------------------------------------------------

    def progress_json(self) -> dict[str, Any]:
        """The run's own state, without the agents' (the manager keeps this in its state)."""
        return {
            "key": self.key,
            "sender": self.sender.name,
            "silent": self.silent,
            "summary_method": self.summary_method if isinstance(self.summary_method, str) else None,
            "summary_args": self.summary_args,
            "message": _message_json(self.message) if self._phase == "open" else None,
            "phase": self._phase,
            "round": self._round,
            "speaker": self._speaker,
            "next": self._next,
            "pending": self._pending.to_dict() if self._pending is not None else None,
            "steer": self._steer,
            "human_indices": self._human_indices,
            "injected": self._injected,
            "selection": self._selection.to_json() if self._selection is not None else None,
            **self._common_json(),
        }

    def load_progress(self, state: Mapping[str, Any]) -> None:
        """Take back what :meth:`progress_json` saved."""
        self.key = state["key"]
        self._phase = state["phase"]
        self._round = state["round"]
        self._speaker = state["speaker"]
        self._next = state["next"]
        self._pending = Message.from_dict(state["pending"]) if state["pending"] else None
        self._steer = state["steer"]
        self._human_indices = list(state.get("human_indices", ()))
        self._injected = list(state.get("injected", ()))
        selection = state.get("selection")
        self._selection = SpeakerChoice.from_json(selection) if selection else None
        self._load_common(dict(state))

    def to_json(self, lists: MessageLists = inline) -> dict[str, Any]:
        """The whole state: the run's and every agent's (definitions not included).

        ``lists`` makes what the state holds of each message list (by default, the messages; see
        :mod:`agents.message_lists`); :meth:`from_json` takes the lists back as messages.
        """
        return {
            "version": STATE_VERSION,
            "kind": "group_chat",
            "manager": self.manager.name,
            **self.progress_json(),
            "agents": team_states(self.manager, self.sender, lists=lists),
        }

    @classmethod
    def from_json(
        cls,
        state: Mapping[str, Any],
        agents: Iterable[Agent],
        *,
        summary_method: str | Callable[..., Any] | None = None,
        termination_condition: TerminationCondition | None = None,
        cache: ResponseCache | None = None,
    ) -> GroupChatRun:
        """Rebuild a run from :meth:`to_json` onto freshly built agents (the manager brings its members).

        Raises:
            ConfigurationError: the state is of another kind or version, or names an agent that
                is not among the agents given.
        """
        cls._check_state(state, "group_chat", STATE_VERSION)
        team = restore_team(state["agents"], agents)
        manager = team[state["manager"]]
        if not isinstance(getattr(manager, "groupchat", None), GroupChat):
            raise ConfigurationError(f"{state['manager']!r} is not a GroupChatManager")
        run = cls(
            cast(GroupChatHost, manager),
            state["message"],
            cast("ConversableAgent", team[state["sender"]]),
            silent=state["silent"],
            summary_method=summary_method if summary_method is not None else state["summary_method"],
            summary_args=state["summary_args"],
            termination_condition=termination_condition,
            cache=cache,
        )
        run.load_progress(state)
        return run


def _message_json(message: MessageLike | None) -> Any:
    return message.to_dict() if isinstance(message, Message) else message
