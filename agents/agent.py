"""The protocols of chat participants, as the run engine sees them.

- :class:`Agent`: anything that can take part in a chat (AutoGen's protocol; a user-defined
  agent implements it).
- :class:`LLMAgent`: an agent with a system message.
- :class:`Conversable`: what the run engine (:mod:`agents.chat_run`, :mod:`agents.chat`,
  :mod:`agents.groupchat`) needs to step an agent and to save its state; ConversableAgent
  has it. The engine depends on these protocols, never on the concrete classes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .llm.client import LLMClient
    from .message_lists import MessageLists
    from .messages import Message, MessageLike

__all__ = ["AGENT_METHODS", "Agent", "Conversable", "LLMAgent", "is_conversable"]

AGENT_METHODS = ("a_send", "a_receive", "a_generate_reply")
"""The methods a chat peer must have (besides ``name``)."""


@runtime_checkable
class Agent(Protocol):
    """A participant of a chat: it has a name, receives messages and can reply."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    async def a_send(
        self,
        message: MessageLike,
        recipient: Agent,
        request_reply: bool | None = None,
        silent: bool | None = False,
    ) -> None: ...

    async def a_receive(
        self,
        message: MessageLike,
        sender: Agent,
        request_reply: bool | None = None,
        silent: bool | None = False,
    ) -> None: ...

    async def a_generate_reply(
        self, messages: list[Message] | None = None, sender: Agent | None = None, **kwargs: Any
    ) -> str | dict[str, Any] | Message | None: ...


@runtime_checkable
class LLMAgent(Agent, Protocol):
    """An agent with a system message."""

    @property
    def system_message(self) -> str: ...

    def update_system_message(self, system_message: str) -> None: ...


class Conversable(Agent, Protocol):
    """An agent the run engine can step, summarize and save (ConversableAgent is one)."""

    @property
    def client(self) -> LLMClient | None:
        """The agent's model client, or None."""
        ...

    @property
    def human_input_mode(self) -> str: ...

    @property
    def histories(self) -> defaultdict[Agent, list[Message]]:
        """The typed history with each peer (what ``chat_messages`` shows as dicts)."""
        ...

    @property
    def reply_at_receive(self) -> defaultdict[Agent, bool]: ...

    def reset_consecutive_auto_reply_counter(self, sender: Agent | None = None) -> None: ...

    def clear_history(self, recipient: Agent | None = None, nr_messages_to_preserve: int | None = None) -> None: ...

    async def a_generate_init_message(self, message: MessageLike | None, **kwargs: Any) -> MessageLike: ...

    def take_stop_reason(self) -> str: ...

    def take_stop(self) -> Any:
        """Why this agent's latest reply was None, as an ``agents.Stop`` (and forget it)."""
        ...

    def is_termination(self, message: Message) -> bool:
        """Whether ``message`` ends the chat, by this agent's ``is_termination_msg``."""
        ...

    def team_members(self) -> Sequence[Conversable]: ...

    def get_state(self, lists: MessageLists = ...) -> dict[str, Any]: ...

    def set_state(self, state: Mapping[str, Any], peers: Mapping[str, Agent]) -> None: ...


def is_conversable(agent: object) -> bool:
    """Whether the run engine can step ``agent`` itself (it has this framework's agent state)."""
    return getattr(type(agent), "_threadcrew_conversable", False) is True
