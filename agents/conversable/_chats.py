"""Chats an agent starts: ``initiate_chat``, queues of chats, and nested chats as a reply.

The runner of a two-agent chat is :class:`agents.chat_run.ChatRun`; the queues live in
:mod:`agents.chat_queue`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._sync import sync_edge
from ..agent import Agent
from ..chat import ChatResult, apply_carryover
from ..chat_queue import a_initiate_chats, initiate_chats, nested_chats_reply
from ..chat_run import ChatRun
from ..errors import ConfigurationError
from ..messages import MessageLike
from ._base import Trigger
from ._messaging import MessagingMixin

__all__ = ["ChatsMixin"]


class ChatsMixin(MessagingMixin):
    """Starting chats with other agents."""

    DEFAULT_SUMMARY_PROMPT = "Summarize the takeaway from the conversation. Do not add any introductory phrases."
    DEFAULT_SUMMARY_METHOD = "last_msg"

    async def a_initiate_chat(
        self,
        recipient: Agent,
        clear_history: bool = True,
        silent: bool | None = False,
        cache: Any = None,
        max_turns: int | None = None,
        summary_method: str | Callable[..., Any] | None = DEFAULT_SUMMARY_METHOD,
        summary_args: dict[str, Any] | None = None,
        message: MessageLike | Callable[..., Any] | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        """Chat with ``recipient``, starting with ``message``, until one of them stops.

        Args:
            recipient: the agent to chat with (any :class:`~agents.Agent`).
            clear_history: forget both agents' earlier history with each other first.
            silent: do not print the messages.
            cache: a response cache for every model call of this chat.
            max_turns: at most this many rounds of (this agent speaks, recipient replies).
            summary_method: "last_msg", "reflection_with_llm" or ``f(sender, recipient, summary_args)``.
            summary_args: ``summary_prompt``, ``summary_role`` for reflection.
            message: the first message: a string, a dict, or ``f(sender, recipient, context)``;
                None asks the human.
            **kwargs: ``carryover`` (context from earlier chats) and context for a callable message.

        Raises:
            ChatSuspended: a deferred human-input source has no answer yet; resume the run.
            ModelError: the model failed after retries and fallbacks.
            ConfigurationError: a recipient that is not an agent, or a bad summary method or max_turns.
        """
        run = ChatRun(
            self,
            recipient,
            clear_history=clear_history,
            silent=silent,
            cache=cache,
            max_turns=max_turns,
            summary_method=summary_method,
            summary_args=summary_args,
            message=message,
            **kwargs,
        )
        return await run.a_run_to_end()

    initiate_chat = sync_edge(a_initiate_chat)

    async def a_generate_init_message(self, message: MessageLike | None, **kwargs: Any) -> MessageLike:
        """The first message of a chat: ``message`` (asked of the human when None) plus carryover."""
        if message is None:
            message = await self._a_ask_human(">")
        return apply_carryover(message, kwargs.get("carryover"))

    generate_init_message = sync_edge(a_generate_init_message)

    def _with_sender(self, chat_queue: list[dict[str, Any]]) -> list[dict[str, Any]]:
        queue = []
        for chat in chat_queue:
            if chat.get("sender") not in (None, self):
                raise ConfigurationError(f"{self.name}.initiate_chats: a chat names another sender; leave 'sender' out")
            queue.append({**chat, "sender": self})
        return queue

    def initiate_chats(self, chat_queue: list[dict[str, Any]]) -> list[ChatResult]:
        """Run chats one after another, each getting the earlier summaries as carryover."""
        return initiate_chats(self._with_sender(chat_queue))

    async def a_initiate_chats(self, chat_queue: list[dict[str, Any]]) -> dict[Any, ChatResult]:
        """Run chats concurrently, each waiting for its ``prerequisites``."""
        return await a_initiate_chats(self._with_sender(chat_queue))

    def register_nested_chats(
        self,
        chat_queue: list[dict[str, Any]],
        trigger: Trigger,
        reply_func_from_nested_chats: str | Callable[..., Any] = "summary_from_nested_chats",
        position: int = 1,
        use_async: bool | None = None,
        **kwargs: Any,
    ) -> None:
        """Reply by running a queue of chats; the last chat's summary is the reply.

        ``position`` 1 is right after the termination and human-input check (AutoGen wrote 2,
        counting its sync and async twins of that check).

        Raises:
            ConfigurationError: an unknown ``reply_func_from_nested_chats``, or async chats without ids.
        """
        reply = nested_chats_reply(chat_queue, reply_func_from_nested_chats, use_async=bool(use_async))
        self.register_reply(trigger, reply, position, kwargs.get("config"), kwargs.get("reset_config"))
