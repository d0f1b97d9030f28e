"""GroupChatManager: the agent that runs a group chat when someone talks to it.

``user.initiate_chat(manager, message=...)`` starts a group chat: the manager's reply
function ``run_chat`` takes the conversation round by round (see :mod:`agents.groupchat.run`)
and keeps its progress, so that a wait for a human anywhere in the group resumes at the same
speaker. A manager can itself take part in another group chat (a nested team): when another
manager asks it to speak, it runs its own group on the latest message and answers with that
chat's summary.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Mapping
from typing import Any

from .._classic import typed
from .._sync import sync_edge
from ..agent import Agent
from ..conversable import ConversableAgent, HumanInputMode
from ..errors import ChatSuspended, ConfigurationError
from ..message_lists import MessageLists, inline, transcript_key
from ..messages import Message
from ..termination import TerminationCondition
from .groupchat import GroupChat
from .run import GroupChatRun

__all__ = ["GroupChatManager"]

_log = logging.getLogger(__name__)


class GroupChatManager(ConversableAgent):
    """Runs ``groupchat`` when it receives a message.

    Args:
        groupchat: the participants and rules.
        name: the manager's name.
        silent: whether the group chats that ``run_chat`` runs are silent (AutoGen's flag; it
            does not silence the manager's other chats).
        termination_condition: ends the group chat (next to ``is_termination_msg``).
        **kwargs: ConversableAgent's; ``llm_config`` is the model of ``auto`` speaker selection.
            As in AutoGen, ``llm_config=False`` with ``auto`` selection is accepted: a model is
            needed only when the manager must ask one (several candidates and no other way to
            choose); then selecting raises ConfigurationError.

    Raises:
        ConfigurationError: tools given to the manager.
    """

    def __init__(
        self,
        groupchat: GroupChat,
        name: str = "chat_manager",
        max_consecutive_auto_reply: int | None = sys.maxsize,
        human_input_mode: HumanInputMode = "NEVER",
        system_message: str | list[Any] | None = "Group chat manager.",
        silent: bool = False,
        *,
        termination_condition: TerminationCondition | None = None,
        **kwargs: Any,
    ) -> None:
        llm_config = kwargs.get("llm_config")
        if isinstance(llm_config, Mapping) and llm_config.get("tools"):
            raise ConfigurationError(
                "a GroupChatManager does not call tools: give them to a participant (register_for_llm on it)"
            )
        super().__init__(
            name=name,
            max_consecutive_auto_reply=max_consecutive_auto_reply,
            human_input_mode=human_input_mode,
            system_message=system_message,
            **kwargs,
        )
        self.run_chat_silent = silent
        self._groupchat = groupchat
        self.termination_condition = termination_condition
        self._run: GroupChatRun | None = None
        self.register_reply(Agent, GroupChatManager.a_run_chat, config=groupchat, reset_config=GroupChat.reset)

    @property
    def groupchat(self) -> GroupChat:
        return self._groupchat

    @property
    def last_run(self) -> GroupChatRun | None:
        """The group chat that ``run_chat`` is driving or drove last."""
        return self._run

    def chat_messages_for_summary(self, agent: Agent) -> list[dict[str, Any]]:
        """The group chat's messages (what a summary of a chat with the manager reads), as AutoGen dicts."""
        return self._groupchat.messages

    def team_members(self) -> list[ConversableAgent]:
        return [a for a in self._groupchat.agents if isinstance(a, ConversableAgent)]

    # -- the reply function ----------------------------------------------------------------------

    @typed
    async def a_run_chat(
        self, messages: list[Message] | None = None, sender: Agent | None = None, config: Any = None
    ) -> tuple[bool, str | None]:
        """Run the group chat on the latest message from ``sender``.

        Returns ``(True, None)``: the chat between ``sender`` and the manager ends with the group
        chat (AutoGen's behaviour); to another manager it answers with the group chat's summary.

        Raises:
            ChatSuspended: the group chat waits for a human and nothing above this call can
                hold the wait (it was called directly, not from a chat).
        """
        if not isinstance(sender, ConversableAgent):
            return False, None
        history = messages if messages is not None else self.histories[sender]
        if not history:
            return False, None
        key = f"{sender.name}:{len(history)}"
        run = self._run
        if run is None or run.finished or run.key != key:
            run = self._run = GroupChatRun.continuing(self, sender, key)
        if await run.a_run() == "waiting":
            raise ChatSuspended(run)
        summary = run.result.summary
        nested = isinstance(sender, GroupChatManager) and sender is not self  # a team inside another team
        return True, summary if nested else None

    run_chat = sync_edge(a_run_chat)

    def clear_history(self, recipient: Agent | None = None, nr_messages_to_preserve: int | None = None) -> None:
        """Forget the history with ``recipient``, and a group chat it had started."""
        super().clear_history(recipient, nr_messages_to_preserve)
        if self._run is not None and (recipient is None or self._run.sender.name == recipient.name):
            self._run = None

    def reset(self) -> None:
        super().reset()
        self._run = None

    # -- resuming from a transcript ------------------------------------------------------------------

    def messages_to_string(self, messages: list[Message] | list[dict[str, Any]]) -> str:
        """A transcript as JSON, to store and later :meth:`resume` from."""
        return json.dumps([m.to_dict() if isinstance(m, Message) else m for m in messages])

    def messages_from_string(self, message_string: str) -> list[dict[str, Any]]:
        """A transcript stored with :meth:`messages_to_string`.

        Raises:
            ConfigurationError: the string is not a JSON list of messages.
        """
        try:
            messages = json.loads(message_string)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"the saved messages are not valid JSON: {exc}") from exc
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            raise ConfigurationError("the saved messages must be a JSON list of message objects")
        return messages

    async def a_resume(
        self,
        messages: list[Message] | list[dict[str, Any]] | str,
        remove_termination_string: str | Callable[[str], str] | None = None,
        silent: bool | None = False,
    ) -> tuple[ConversableAgent, dict[str, Any]]:
        """Load a saved transcript into the group so that the chat can go on from it.

        Every message but the last goes into the participants' histories, as if the chat had
        happened (a tool call keeps its results, so the model gets a valid history). Continue
        with ``last_agent.initiate_chat(manager, message=last_message, clear_history=False)``.

        Returns:
            the agent who spoke last and the last message (an AutoGen dict).

        Raises:
            ConfigurationError: no messages, or a message from an agent that is not in the group.
        """
        loaded = [
            Message.from_dict(m, role="user") if isinstance(m, Mapping) else m
            for m in (self.messages_from_string(messages) if isinstance(messages, str) else messages)
        ]
        if not loaded:
            raise ConfigurationError(
                "resume needs at least one message; to start a new chat use initiate_chat with the manager"
            )
        for agent in self.team_members():
            agent.clear_history()
        self.clear_history()
        self._groupchat.reset()
        speakers = [self._speaker_of(m) for m in loaded]
        for message, speaker in zip(loaded[:-1], speakers[:-1], strict=True):
            for agent in self.team_members():
                if agent is speaker:
                    await agent.a_send(message, self, request_reply=False, silent=True)
                else:
                    await self.a_send(message, agent, request_reply=False, silent=True)
            self._groupchat.append(message, speaker)
        last = loaded[-1]
        if remove_termination_string is not None and isinstance(last.content, str):
            strip = remove_termination_string
            text = strip(last.content) if callable(strip) else last.content.replace(strip, "")
            last = Message.from_dict({**last.to_dict(), "content": text})
        if self.is_termination(last):
            _log.warning("the last message of the resumed chat is a termination message: the chat may stop at once")
        if not silent:
            print(f"Prepared group chat with {len(loaded)} messages, the last speaker is {speakers[-1].name}")
        self._groupchat.send_introductions = False
        return speakers[-1], last.to_dict()

    resume = sync_edge(a_resume)

    def _speaker_of(self, message: Message) -> ConversableAgent:
        name = message.name
        if name in (None, self.name, self._groupchat.admin_name):
            return self
        agent = self._groupchat.agent_by_name(name)
        if not isinstance(agent, ConversableAgent):
            members = ", ".join(self._groupchat.agent_names)
            raise ConfigurationError(f"a saved message is from {name!r}, who is not in the group chat ({members})")
        return agent

    # -- durable state ---------------------------------------------------------------------------------

    def get_state(self, lists: MessageLists = inline) -> dict[str, Any]:
        return {
            **super().get_state(lists),
            "groupchat_messages": lists(transcript_key(self.name), self._groupchat.transcript),
            "run": self._run.progress_json() if self._run is not None else None,
        }

    def set_state(self, state: Mapping[str, Any], peers: Mapping[str, Agent]) -> None:
        super().set_state(state, peers)
        self._groupchat.transcript[:] = [Message.from_dict(m) for m in state.get("groupchat_messages", ())]
        progress = state.get("run")
        self._run = None
        if progress is not None:
            sender = peers.get(progress["sender"])
            if not isinstance(sender, ConversableAgent):
                raise ConfigurationError(f"the saved group chat was started by {progress['sender']!r}, who is missing")
            self._run = GroupChatRun.continuing(self, sender, progress["key"])
            self._run.load_progress(progress)
