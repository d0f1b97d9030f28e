"""What an agent remembers: histories per peer, auto-reply counters, and saving and restoring them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from ..agent import Agent, Conversable
from ..errors import ConfigurationError
from ..llm.usage import Usage
from ..message_lists import MessageLists, history_key, inline
from ..messages import Message
from ..outcome import Stop, StopKind
from ._base import AgentCore, AgentState

__all__ = ["StateMixin", "system_content"]


class StateMixin(AgentCore):
    """Histories, counters, and the agent's state as JSON-ready data."""

    @property
    def histories(self) -> defaultdict[Agent, list[Message]]:
        """This agent's typed history with each peer (the engine's and the bot's view)."""
        return self._state.messages

    @property
    def reply_at_receive(self) -> defaultdict[Agent, bool]:
        """Per peer: whether receiving a message from it makes this agent reply."""
        return self._state.reply_at_receive

    @property
    def _consecutive_auto_reply_counter(self) -> defaultdict[Agent | None, int]:
        return self._state.auto_reply_counts

    def update_max_consecutive_auto_reply(self, value: int, sender: Agent | None = None) -> None:
        """Set the auto-reply cap for ``sender``, or for everyone when None."""
        if sender is None:
            self._max_consecutive_auto_reply = value
            for peer in self._max_consecutive_auto_reply_dict:
                self._max_consecutive_auto_reply_dict[peer] = value
        else:
            self._max_consecutive_auto_reply_dict[sender] = value

    def reset_consecutive_auto_reply_counter(self, sender: Agent | None = None) -> None:
        if sender is None:
            self._state.auto_reply_counts.clear()
        else:
            self._state.auto_reply_counts[sender] = 0

    def stop_reply_at_receive(self, sender: Agent | None = None) -> None:
        if sender is None:
            self.reply_at_receive.clear()
        else:
            self.reply_at_receive[sender] = False

    def clear_history(self, recipient: Agent | None = None, nr_messages_to_preserve: int | None = None) -> None:
        """Forget the history with ``recipient`` (everyone when None), keeping the last N if asked."""
        histories = self.histories.values() if recipient is None else [self.histories[recipient]]
        for history in histories:
            keep = history[-nr_messages_to_preserve:] if nr_messages_to_preserve else []
            history[:] = keep

    def take_stop_reason(self) -> str:
        """Why this agent's latest reply was None, in words (and forget it)."""
        return self.take_stop().detail

    def take_stop(self) -> Stop:
        """Why this agent's latest reply was None (and forget it)."""
        stop = self._stop_reason or Stop(StopKind.NO_REPLY, f"{self.name} had no reply")
        self._stop_reason = None
        return stop

    def team_members(self) -> Sequence[Conversable]:
        """Agents whose state travels with this one's (a group chat manager's members)."""
        return []

    def get_state(self, lists: MessageLists = inline) -> dict[str, Any]:
        """What this agent remembers, as JSON-ready data keyed by peer name; each history with a
        peer is what ``lists`` makes of it (see :mod:`agents.message_lists`)."""
        state = self._state
        return {
            "name": self.name,
            "system_message": self._oai_system_message[0].to_dict()["content"],
            "messages": {
                peer.name: lists(history_key(self.name, peer.name), msgs) for peer, msgs in state.messages.items()
            },
            "auto_reply_counts": {_peer_key(p): n for p, n in state.auto_reply_counts.items()},
            "max_auto_reply": {_peer_key(p): n for p, n in self._max_consecutive_auto_reply_dict.items()},
            "reply_at_receive": {peer.name: flag for peer, flag in state.reply_at_receive.items()},
            "human_input": list(self._human_input),
            "usage": self.client.usage.to_json() if self.client else None,
        }

    def set_state(self, state: Mapping[str, Any], peers: Mapping[str, Agent]) -> None:
        """Restore what :meth:`get_state` saved; ``peers`` maps names to this graph's agents.

        Raises:
            ConfigurationError: the state names a peer that ``peers`` does not have.
        """

        def peer(name: str) -> Agent:
            if name not in peers:
                raise ConfigurationError(
                    f"the saved state of {self.name!r} names agent {name!r}, which is not in the team"
                )
            return peers[name]

        def key(name: str) -> Agent | None:
            return None if name == "" else peer(name)

        self._oai_system_message = [Message(role="system", content=system_content(state["system_message"]))]
        fresh = AgentState()
        for name, msgs in state["messages"].items():
            fresh.messages[peer(name)] = [Message.from_dict(m) for m in msgs]
        for name, count in state["auto_reply_counts"].items():
            fresh.auto_reply_counts[key(name)] = count
        for name, flag in state["reply_at_receive"].items():
            fresh.reply_at_receive[peer(name)] = flag
        self._state = fresh
        self._max_consecutive_auto_reply_dict.clear()
        for name, count in state["max_auto_reply"].items():
            self._max_consecutive_auto_reply_dict[key(name)] = count
        self._human_input = list(state["human_input"])
        if self.client is not None and state.get("usage"):
            self.client.usage = Usage.from_json(state["usage"])


def system_content(system_message: Any) -> Any:
    """A system message (text, parts or None) as Message content."""
    if system_message is None:
        return ""
    return Message.from_dict({"role": "system", "content": system_message}).content


def _peer_key(agent: Agent | None) -> str:
    return "" if agent is None else agent.name
