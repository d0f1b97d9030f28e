"""Sending and receiving: how messages enter an agent's histories, and AutoGen's receive chain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from .. import _console, runtime_logging
from .._classic import HistoriesView, MessageList, classic
from .._sync import sync_edge
from ..agent import Agent, Conversable, is_conversable
from ..chat_run import converse
from ..errors import InvalidMessageError
from ..messages import Message, MessageLike
from ._registry import ReplyRegistryMixin
from ._state import StateMixin

__all__ = ["MessagingMixin"]


class MessagingMixin(ReplyRegistryMixin, StateMixin):
    """``send`` / ``receive`` and what they store."""

    @property
    def chat_messages(self) -> HistoriesView[Agent]:
        """This agent's history with each peer, as AutoGen dicts (typed: :attr:`histories`)."""
        return HistoriesView(self._state.messages)

    def chat_messages_for_summary(self, agent: Agent) -> list[dict[str, Any]]:
        """The messages a reflection summary of the chat with ``agent`` reads, as AutoGen dicts."""
        return MessageList(self._state.messages[agent])

    def last_message(self, agent: Agent | None = None) -> dict[str, Any] | None:
        """The last message exchanged with ``agent`` (with the only peer when None), as an AutoGen dict.

        Raises:
            ValueError: several peers and no ``agent`` given.
            KeyError: no history with ``agent``.
        """
        histories = self._state.messages
        if agent is None:
            if not histories:
                return None
            if len(histories) > 1:
                raise ValueError("more than one conversation: pass the agent whose last message you want")
            history = next(iter(histories.values()))
        elif agent not in histories:
            raise KeyError(f"agent {agent.name!r} is in no conversation with {self.name!r}: there is no history")
        else:
            history = histories[agent]
        return history[-1].to_dict() if history else None

    def _to_message(self, message: MessageLike, role: str, peer: Agent, is_sending: bool) -> Message:
        """AutoGen's rules for storing a message from this agent's point of view."""
        if isinstance(message, str):
            data: dict[str, Any] = {"content": message}
        elif isinstance(message, Message):
            data = message.to_dict()
        elif isinstance(message, Mapping):
            data = {k: v for k, v in message.items() if v is not None}
        else:
            raise InvalidMessageError(f"a message must be a str, a dict or a Message, not {type(message).__name__}")
        given_role = data.get("role")
        if given_role in ("tool", "function"):
            data["role"] = "tool"
        elif "override_role" in data:
            data["role"] = data.pop("override_role")
        else:
            data["role"] = role
        if data.get("tool_calls"):
            data["role"] = "assistant"
        elif "name" not in data:
            data["name"] = self.name if is_sending else peer.name
        if "content" not in data and not data.get("tool_calls") and not data.get("tool_responses"):
            raise InvalidMessageError(f"{self.name}: a message needs content or tool calls; neither is in {message!r}")
        return Message.from_dict(data)

    async def a_send(
        self,
        message: MessageLike,
        recipient: Agent,
        request_reply: bool | None = None,
        silent: bool | None = False,
    ) -> None:
        """Send ``message`` to ``recipient``, which replies when ``request_reply`` (or its default) says so.

        Raises:
            InvalidMessageError: the message has neither content nor tool calls.
        """
        if self.hook_lists["process_message_before_send"]:
            message = await self._run_hooks_before_send(message, recipient, silent)
        stored = self._to_message(message, "assistant", recipient, True)
        self._state.messages[recipient].append(stored)
        if not is_conversable(recipient):
            message = classic(message)  # an agent of the user's own gets what AutoGen sends: str or dict
        await recipient.a_receive(message, self, request_reply, silent)

    send = sync_edge(a_send)

    async def a_receive(
        self,
        message: MessageLike,
        sender: Agent,
        request_reply: bool | None = None,
        silent: bool | None = False,
    ) -> None:
        """Store ``message`` from ``sender``; reply (and go on replying) when asked to."""
        self._process_received_message(message, sender, silent)
        if request_reply is False or (request_reply is None and not self.reply_at_receive[sender]):
            return
        await converse(cast(Conversable, self), sender, silent=silent)  # ConversableAgent is one

    receive = sync_edge(a_receive)

    def _process_received_message(self, message: MessageLike, sender: Agent, silent: bool | None) -> None:
        stored = self._to_message(message, "user", sender, False)
        self._state.messages[sender].append(stored)
        if runtime_logging.logging_enabled():
            runtime_logging.log_event(self, "received_message", message=stored.to_dict(), sender=sender.name)
        if not (self.silent if self.silent is not None else silent):
            _console.print_message(sender.name, self.name, stored)
