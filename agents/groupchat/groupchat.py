"""GroupChat: who takes part, in what order they may speak, and how the next speaker is chosen.

Selection methods: ``auto`` (the model picks from the roles), ``round_robin``, ``random``,
``manual`` (a person picks from a numbered list), or a callable
``(last_speaker, groupchat) -> Agent | method name | None`` (None ends the chat). Names
are case-insensitive.

Before any method runs, the candidates are narrowed: a message with tool calls goes to the
agent that can execute them; the transition graph (``allowed_or_disallowed_speaker_transitions``
or ``allow_repeat_speaker``) says who may follow whom; a speaker with nowhere to go ends the
chat. A single remaining candidate is chosen without asking anyone. Unlike AutoGen, no
fallback ever picks an agent the graph excludes.
"""

from __future__ import annotations

import functools
import inspect
import logging
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import speaker_choice
from .._classic import MessageList
from .._sync import sync_edge
from ..agent import Agent
from ..errors import AgentError, AgentNameConflict, ConfigurationError, UndefinedNextAgent
from ..llm.client import LLMClient
from ..messages import Message, MessageLike, WireCache, as_message
from ..outcome import SpeakerChoice, record_speaker_selection

if TYPE_CHECKING:
    from ..conversable import ConversableAgent
    from ..history import HistoryLimiter

__all__ = ["SELECTION_METHODS", "GroupChat", "NoEligibleSpeaker"]

_log = logging.getLogger(__name__)

SELECTION_METHODS = ("auto", "manual", "random", "round_robin")

SELECT_SPEAKER_MESSAGE_TEMPLATE = """You direct a conversation between these participants:
{roles}.
Read the conversation that follows, then decide who of {agentlist} should speak next. Answer with the name only."""

SELECT_SPEAKER_PROMPT_TEMPLATE = (
    "Read the conversation above, then decide who of {agentlist} should speak next. Answer with the name only."
)

SELECT_SPEAKER_AUTO_MULTIPLE_TEMPLATE = """Your answer named more than one participant. Answer with exactly one name,
chosen this way:
1. If the text speaks as one of them ("As the ..."), choose that one.
2. If it names who should go "next", choose that one.
3. Otherwise choose the first name it gives.
Write the name exactly as given, without a reason or anything else."""

SELECT_SPEAKER_AUTO_NONE_TEMPLATE = """Your answer named none of the participants. Choose one this way:
1. If the text speaks as one of them ("As the ..."), choose that one.
2. If it names who should go "next", choose that one.
3. Otherwise choose the first name it gives.
The only accepted names are {agentlist}. Write the name exactly, without a reason or anything else."""

INTRODUCTION_TEMPLATE = """Hello everyone. This team works together on questions and tasks. Taking part:

{roles}
"""


class NoEligibleSpeaker(AgentError):
    """Nobody may speak next: the chat ends."""


SpeakerSelection = Callable[..., Any]


class GroupChat:
    """The participants and rules of a group chat (AutoGen's parameters and defaults).

    Raises:
        ConfigurationError: an unknown selection method (the message lists the valid ones),
            duplicate agent names, or a transition graph that names an agent not in the chat.
    """

    def __init__(
        self,
        agents: Sequence[ConversableAgent],
        messages: Iterable[MessageLike] | None = None,
        max_round: int = 10,
        admin_name: str = "Admin",
        func_call_filter: bool = True,
        speaker_selection_method: str | SpeakerSelection = "auto",
        max_retries_for_selecting_speaker: int = 2,
        allow_repeat_speaker: bool | Sequence[Agent] | None = None,
        allowed_or_disallowed_speaker_transitions: Mapping[Any, Sequence[Agent]] | None = None,
        speaker_transitions_type: str | None = None,
        send_introductions: bool = False,
        select_speaker_message_template: str = SELECT_SPEAKER_MESSAGE_TEMPLATE,
        select_speaker_prompt_template: str | None = SELECT_SPEAKER_PROMPT_TEMPLATE,
        select_speaker_auto_multiple_template: str = SELECT_SPEAKER_AUTO_MULTIPLE_TEMPLATE,
        select_speaker_auto_none_template: str = SELECT_SPEAKER_AUTO_NONE_TEMPLATE,
        select_speaker_transform_messages: HistoryLimiter | None = None,
        select_speaker_auto_verbose: bool = False,
        select_speaker_auto_llm_config: Mapping[str, Any] | None = None,
        role_for_select_speaker_messages: str = "system",
    ) -> None:
        self.agents = list(agents)
        names = [a.name for a in self.agents]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigurationError(f"GroupChat agent names must be unique; repeated: {', '.join(duplicates)}")
        self.transcript: list[Message] = [as_message(m) for m in messages or ()]
        self._views: list[tuple[Message, Message]] = []  # (message, its selection-prompt view)
        self._views_wire = WireCache()
        if max_round < 1:
            raise ConfigurationError("max_round must be at least 1")
        self.max_round = max_round
        self.admin_name = admin_name
        self.func_call_filter = func_call_filter
        if isinstance(speaker_selection_method, str) and speaker_selection_method.lower() not in SELECTION_METHODS:
            raise ConfigurationError(_unknown_method(speaker_selection_method))
        if not (isinstance(speaker_selection_method, str) or callable(speaker_selection_method)):
            raise ConfigurationError("speaker_selection_method must be a method name or a callable")
        self.speaker_selection_method = speaker_selection_method
        if max_retries_for_selecting_speaker < 0:
            raise ConfigurationError("max_retries_for_selecting_speaker must be 0 or more")
        self.max_retries_for_selecting_speaker = max_retries_for_selecting_speaker
        self.allow_repeat_speaker = allow_repeat_speaker
        self.allowed_or_disallowed_speaker_transitions = allowed_or_disallowed_speaker_transitions
        self.speaker_transitions_type = speaker_transitions_type
        self.allowed_speaker_transitions_dict = self._transitions()
        self.send_introductions = send_introductions
        self.select_speaker_message_template = select_speaker_message_template
        self.select_speaker_prompt_template = select_speaker_prompt_template
        self.select_speaker_auto_multiple_template = select_speaker_auto_multiple_template
        self.select_speaker_auto_none_template = select_speaker_auto_none_template
        self.select_speaker_transform_messages = select_speaker_transform_messages
        self.select_speaker_auto_verbose = select_speaker_auto_verbose
        self.select_speaker_auto_llm_config = select_speaker_auto_llm_config
        self._selection_client = LLMClient(select_speaker_auto_llm_config) if select_speaker_auto_llm_config else None
        if not role_for_select_speaker_messages:
            raise ConfigurationError("role_for_select_speaker_messages must not be empty")
        self.role_for_select_speaker_messages = role_for_select_speaker_messages

    # -- the transition graph -------------------------------------------------------------------

    def _transitions(self) -> dict[Agent, list[Agent]]:
        repeat = self.allow_repeat_speaker
        given = self.allowed_or_disallowed_speaker_transitions
        if repeat is not None and not isinstance(repeat, (bool, list, tuple)):
            raise ConfigurationError("allow_repeat_speaker must be a bool or a list of agents")
        if given is None:
            if self.speaker_transitions_type is not None:
                raise ConfigurationError(
                    "speaker_transitions_type is set but allowed_or_disallowed_speaker_transitions is not"
                )
            if repeat is None or repeat is True:
                repeaters: set[Any] = set(self.agents)
            elif repeat is False:
                repeaters = set()
            else:
                repeaters = set(repeat)
            self._check_members(repeaters, "allow_repeat_speaker")
            return {a: [b for b in self.agents if b is not a or a in repeaters] for a in self.agents}
        if repeat is not None:
            raise ConfigurationError(
                "give either allowed_or_disallowed_speaker_transitions or allow_repeat_speaker, not both"
            )
        if self.speaker_transitions_type not in ("allowed", "disallowed"):
            raise ConfigurationError(
                "allowed_or_disallowed_speaker_transitions needs speaker_transitions_type 'allowed' or 'disallowed'"
            )
        for source, targets in given.items():
            self._check_members([source], "allowed_or_disallowed_speaker_transitions (a key)")
            self._check_members(targets, f"allowed_or_disallowed_speaker_transitions[{source.name!r}]")
        if self.speaker_transitions_type == "allowed":
            return {source: list(targets) for source, targets in given.items()}
        return {a: [b for b in self.agents if b not in given.get(a, ())] for a in self.agents}

    def _check_members(self, agents: Iterable[Any], where: str) -> None:
        for agent in agents:
            if not isinstance(agent, Agent):
                raise ConfigurationError(f"{where} must hold agents, not {agent!r}")
            if agent not in self.agents:
                raise ConfigurationError(
                    f"{where} names agent {agent.name!r}, which is not in the group chat "
                    f"({', '.join(self.agent_names)})"
                )

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The messages so far, in order, as AutoGen dicts (changes to this list are kept);
        :attr:`transcript` has them typed."""
        return MessageList(self.transcript)

    @messages.setter
    def messages(self, messages: Iterable[MessageLike]) -> None:
        self.transcript[:] = [as_message(m) for m in messages]

    # -- AutoGen's helpers ----------------------------------------------------------------------------

    @property
    def agent_names(self) -> list[str]:
        return [agent.name for agent in self.agents]

    def agent_by_name(
        self, name: str, recursive: bool = False, raise_on_name_conflict: bool = False
    ) -> ConversableAgent | None:
        """The agent called ``name`` (looking into nested teams when ``recursive``), or None."""
        found = [a for a in self.agents if a.name == name]
        if recursive:
            for agent in self.agents:
                inner = getattr(agent, "groupchat", None)
                if isinstance(inner, GroupChat):
                    deeper = inner.agent_by_name(name, recursive=True, raise_on_name_conflict=raise_on_name_conflict)
                    if deeper is not None:
                        found.append(deeper)
        if raise_on_name_conflict and len(found) > 1:
            raise AgentNameConflict(f"more than one agent is called {name!r}")
        return found[0] if found else None

    def manual_select_speaker(self, agents: Sequence[Agent] | None = None) -> Agent | None:
        """Ask on the console which agent speaks next (AutoGen's); None: let the chat choose."""
        return speaker_choice.manual_select_speaker(self, agents)

    def random_select_speaker(self, agents: Sequence[Agent] | None = None) -> Agent | None:
        """A random agent among ``agents`` (default: everyone), or None (AutoGen's)."""
        return speaker_choice.random_select_speaker(self, agents)

    def next_agent(self, agent: Agent, agents: Sequence[ConversableAgent] | None = None) -> ConversableAgent:
        """The agent after ``agent`` in the chat's order, among ``agents`` (default: everyone).

        Raises:
            UndefinedNextAgent: ``agents`` is empty or names an agent that is not in the chat.
        """
        candidates = self.agents if agents is None else list(agents)
        strangers = [getattr(a, "name", a) for a in candidates if a not in self.agents]
        if not candidates or strangers:
            detail = f"{strangers} are not members" if strangers else "no agents were given"
            raise UndefinedNextAgent(f"next_agent: {detail}; pass agents of this group chat")
        start = self.agent_names.index(agent.name) + 1 if agent.name in self.agent_names else 0
        in_turn = self.agents[start:] + self.agents[:start]
        return next(a for a in in_turn if a in candidates)

    def append(self, message: MessageLike, speaker: Agent) -> None:
        """Record ``message`` as said by ``speaker``."""
        data = as_message(message).to_dict()
        data["name"] = speaker.name
        self.transcript.append(Message.from_dict(data))

    def reset(self) -> None:
        """Forget the messages."""
        self.transcript.clear()

    def _participant_roles(self, agents: Sequence[Agent]) -> str:
        return "\n".join(f"{agent.name}: {agent.description}".strip() for agent in agents)

    def select_speaker_msg(self, agents: Sequence[Agent] | None = None) -> str:
        agents = self.agents if agents is None else agents
        return self.select_speaker_message_template.format(
            roles=self._participant_roles(agents), agentlist=f"{[a.name for a in agents]}"
        )

    def select_speaker_prompt(self, agents: Sequence[Agent] | None = None) -> str:
        agents = self.agents if agents is None else agents
        template = self.select_speaker_prompt_template or SELECT_SPEAKER_PROMPT_TEMPLATE
        return template.format(agentlist=f"{[a.name for a in agents]}")

    def introductions_msg(self, agents: Sequence[Agent] | None = None) -> str:
        return INTRODUCTION_TEMPLATE.format(roles=self._participant_roles(self.agents if agents is None else agents))

    def mentioned_agents(self, text: str, agents: Sequence[Agent] | None = None) -> dict[str, int]:
        """How often each agent is named in ``text``, on word boundaries, also written with
        spaces or escaped underscores for ``_`` ("Story_writer", "Story writer", "Story\\_writer")."""
        padded = f" {text} "
        mentions = {}
        for agent in self.agents if agents is None else agents:
            count = len(_mention_pattern(agent.name).findall(padded))
            if count:
                mentions[agent.name] = count
        return mentions

    def first_mention(self, text: str, agent: Agent) -> int:
        """Where ``text`` first names ``agent`` (as :meth:`mentioned_agents` counts), or -1."""
        found = _mention_pattern(agent.name).search(f" {text} ")
        return found.start() - 1 if found else -1

    # -- selection ---------------------------------------------------------------------------------

    def eligible_agents(self, last_speaker: Agent) -> list[ConversableAgent]:
        """Who may speak after ``last_speaker``: tool-call routing, then the transition graph.

        Raises:
            NoEligibleSpeaker: nobody may (the chat ends).
            ConfigurationError: the last message calls tools that no agent can execute.
        """
        if len(self.agents) < 2:
            raise ConfigurationError(f"a group chat needs at least 2 agents, it has {len(self.agents)}")
        if self.func_call_filter and self.transcript and self.transcript[-1].tool_calls:
            return self._tool_executors(self.transcript[-1])
        if last_speaker not in self.agents:
            return list(self.agents)
        allowed = self.allowed_speaker_transitions_dict.get(last_speaker) or []
        eligible = [a for a in self.agents if a in allowed]
        if not eligible:
            raise NoEligibleSpeaker(
                f"no agent may speak after {last_speaker.name} (the transition graph has no way on)"
            )
        return eligible

    def _tool_executors(self, message: Message) -> list[ConversableAgent]:
        names = [call.name for call in message.tool_calls]
        able = [a for a in self.agents if _can(a, "can_execute_function", names)]
        if able:
            return able
        with_functions = [a for a in self.agents if getattr(a, "function_map", None)]
        if len(with_functions) == 1:
            return with_functions
        raise ConfigurationError(
            f"no agent in the group chat can execute the tool(s) {', '.join(sorted(set(names)))}: register them "
            "with register_for_execution (or function_map) on one of the agents"
        )

    async def a_select_speaker(self, last_speaker: Agent, selector: ConversableAgent) -> ConversableAgent:
        """The next speaker after ``last_speaker``; ``selector`` (the manager) asks the model or the human.

        Raises:
            NoEligibleSpeaker: nobody may speak next, or a custom selection function returned None.
            ConfigurationError: a custom function returned something that is not an agent of the chat.
        """
        method = self.speaker_selection_method
        if callable(method):
            chosen = method(last_speaker, self)
            if inspect.isawaitable(chosen):
                chosen = await chosen
            if chosen is None:
                raise NoEligibleSpeaker("the speaker selection function chose nobody")
            if isinstance(chosen, str):
                if chosen.lower() not in SELECTION_METHODS:
                    raise ConfigurationError(_unknown_method(chosen))
                method = chosen
            elif chosen in self.agents:
                return chosen  # type: ignore[no-any-return]
            else:
                raise ConfigurationError(
                    f"the speaker selection function returned {chosen!r}: return an agent of the group chat, "
                    f"a method name ({', '.join(SELECTION_METHODS)}) or None"
                )
        assert isinstance(method, str)
        eligible = self.eligible_agents(last_speaker)
        if len(eligible) == 1:
            return eligible[0]
        method = method.lower()
        if method == "round_robin":
            return self.next_agent(last_speaker, eligible)
        if method == "random":
            return random.choice(eligible)
        if method == "manual":
            return await self._a_manual(last_speaker, eligible, selector)
        return await self._a_auto(last_speaker, eligible, selector)

    def _selection_views(self) -> list[Message]:
        """The transcript as the selection prompt shows it, rendering only messages not seen before."""
        cache = self._views
        for i, message in enumerate(self.transcript):
            if i < len(cache) and cache[i][0] is message:
                continue
            del cache[i:]
            cache.extend((m, self.selection_view(m)) for m in self.transcript[i:])
            break
        del cache[len(self.transcript) :]
        return [view for _, view in cache]

    def selection_view(self, message: Message) -> Message:
        """``message`` as the ``auto`` selection prompt shows it: plain text from its speaker.

        A subclass may show the selector less than the speakers see (the bot shows the files
        people attach as placeholders, so that a file's name cannot steer the choice).
        """
        return _selection_view(message)

    select_speaker = sync_edge(a_select_speaker)

    async def _a_manual(
        self, last_speaker: Agent, eligible: list[ConversableAgent], selector: ConversableAgent
    ) -> ConversableAgent:
        listing = "\n".join(f"{i}: {agent.name}" for i, agent in enumerate(eligible, 1))
        prompt = (
            f"Please select the next speaker from the following list:\n{listing}\n"
            "Enter the number of the next speaker (enter nothing or `q` to use auto selection): "
        )
        answer = (await selector._a_ask_human(prompt, choices=[a.name for a in eligible])).strip()
        if answer.isdigit() and 1 <= int(answer) <= len(eligible):
            return eligible[int(answer) - 1]
        by_name = [a for a in eligible if a.name == answer]
        if by_name:
            return by_name[0]
        if answer not in ("", "q"):
            _log.info("manual speaker selection: %r is not one of 1..%d; taking turns instead", answer, len(eligible))
        return self.next_agent(last_speaker, eligible)

    async def _a_auto(
        self, last_speaker: Agent, eligible: list[ConversableAgent], selector: ConversableAgent
    ) -> ConversableAgent:
        client = self._selection_client or selector.client
        if client is None:
            raise ConfigurationError(
                f"{selector.name}: speaker_selection_method 'auto' needs a model to choose among "
                f"{[a.name for a in eligible]}: give the GroupChatManager an llm_config, set the group chat's "
                "select_speaker_auto_llm_config, or choose another speaker_selection_method"
            )
        role = self.role_for_select_speaker_messages
        history = self._selection_views()
        if self.select_speaker_transform_messages is not None:
            history = self.select_speaker_transform_messages.apply(history)
        wire: list[dict[str, Any]] = [{"role": "system", "content": self.select_speaker_msg(eligible)}]
        wire += self._views_wire.flatten(history)
        shown = len(wire) - 1  # the conversation's messages in the prompt
        wire.append({"role": role, "content": self.select_speaker_prompt(eligible)})
        names = f"{[a.name for a in eligible]}"
        answers: list[str] = []
        for attempt in range(self.max_retries_for_selecting_speaker + 1):
            answer = (await client.create(wire)).message.text
            answers.append(answer)
            mentions = self.mentioned_agents(answer, eligible)
            if self.select_speaker_auto_verbose:
                _log.info("speaker selection attempt %d: %r -> %s", attempt + 1, answer, mentions or "no name")
            if len(mentions) == 1:
                chosen = self.agent_by_name(next(iter(mentions)))
                assert chosen is not None
                record_speaker_selection(_selection(wire, shown, answers, chosen.name))
                return chosen
            retry = (
                self.select_speaker_auto_multiple_template
                if mentions
                else self.select_speaker_auto_none_template.format(agentlist=names)
            )
            wire += [{"role": "assistant", "content": answer}, {"role": role, "content": retry}]
        fallback = self.next_agent(last_speaker, eligible)
        _log.warning("the model did not name one speaker; %s speaks next (in turn)", fallback.name)
        record_speaker_selection(_selection(wire, shown, answers, fallback.name))
        return fallback


def _selection(wire: list[dict[str, Any]], history: int, answers: list[str], chosen: str) -> SpeakerChoice:
    """The record of a model's choice: its prompt without the conversation's messages (they are the
    transcript's; keeping them again with every message would grow as the square of its length)."""
    prompt = wire[:1] + wire[1 + history :]
    return SpeakerChoice(chosen, "model", tuple(prompt), tuple(answers), history)


@functools.lru_cache(maxsize=256)
def _mention_pattern(name: str) -> re.Pattern[str]:
    spellings = sorted({name, name.replace("_", " "), name.replace("_", r"\_")}, key=len, reverse=True)
    return re.compile(r"(?<=\W)(" + "|".join(re.escape(s) for s in spellings) + r")(?=\W)")


def _selection_view(message: Message) -> Message:
    """A message as plain text from its speaker: tool calls and results written out, so that the
    selection prompt is valid whatever the pairing of calls and results in the transcript."""
    parts = [message.text] if message.text else []
    parts += [f"(calls tool {c.name} with {c.arguments})" for c in message.tool_calls]
    parts += [f"(tool result: {r.content})" for r in message.tool_responses if r.content not in parts]
    return Message(role="user", content="\n".join(parts) or "(no text)", name=message.name)


def _unknown_method(method: str) -> str:
    return (
        f"speaker_selection_method {method!r} is not one of {', '.join(SELECTION_METHODS)} "
        "(case-insensitive), nor a callable"
    )


def _can(agent: Agent, method: str, names: list[str]) -> bool:
    check = getattr(agent, method, None)
    return bool(check(names)) if callable(check) else False
