"""The ``Agent`` protocol: what a participant of a chat can do."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .messages import Message, MessageLike

__all__ = ["Agent", "LLMAgent"]


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
