"""Hooks: user functions that see or change messages on their way in and out of an agent.

- ``process_last_received_message``: ``hook(content) -> content``, on the text of the last
  received message, before the reply functions see it;
- ``process_all_messages_before_reply``: ``hook(messages) -> messages``, on the whole history
  the reply functions see, as AutoGen dicts (the stored history is never changed);
- ``process_message_before_send``: ``hook(sender=, message=, recipient=, silent=) -> message``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._classic import as_dicts, classic, is_typed, typed_messages
from ..errors import ConfigurationError
from ..messages import Message
from ._base import AgentCore, maybe_await

__all__ = ["HOOKS", "HooksMixin"]

HOOKS = ("process_last_received_message", "process_all_messages_before_reply", "process_message_before_send")


class HooksMixin(AgentCore):
    """The hook lists of an agent, and running them."""

    hook_lists: dict[str, list[Callable[..., Any]]]

    def register_hook(self, hookable_method: str, hook: Callable[..., Any]) -> None:
        """Add a hook to one of the hookable methods (see :data:`HOOKS`).

        Raises:
            ConfigurationError: an unknown hookable method, or the hook is already there.
        """
        if hookable_method not in self.hook_lists:
            raise ConfigurationError(f"{hookable_method!r} is not a hookable method; use one of {', '.join(HOOKS)}")
        if hook in self.hook_lists[hookable_method]:
            raise ConfigurationError(f"{hook!r} is already registered as a {hookable_method} hook")
        self.hook_lists[hookable_method].append(hook)

    async def _run_hooks_before_reply(self, messages: list[Message]) -> list[Message]:
        """The messages as the reply functions see them; the stored history is never changed."""
        hooks = self.hook_lists["process_last_received_message"]
        if hooks and messages and isinstance(messages[-1].content, str) and messages[-1].content != "exit":
            last = messages[-1]
            processed: Any = last.content
            for hook in hooks:
                processed = await maybe_await(hook(processed))
            if processed != last.content:
                messages = [*messages[:-1], Message.from_dict({**last.to_dict(), "content": processed})]
        for hook in self.hook_lists["process_all_messages_before_reply"]:
            given = messages if is_typed(hook) else as_dicts(messages)
            messages = typed_messages(await maybe_await(hook(given)))
        return messages

    async def _run_hooks_before_send(self, message: Any, recipient: Any, silent: bool | None) -> Any:
        message = classic(message)
        for hook in self.hook_lists["process_message_before_send"]:
            message = await maybe_await(hook(sender=self, message=message, recipient=recipient, silent=silent))
        return message
