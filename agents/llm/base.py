"""The seam between agents and model back-ends: one request in, one response out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias

from ..messages import Message

__all__ = ["ModelClient", "ModelRequest", "ModelResponse", "StreamHandler"]

StreamHandler: TypeAlias = Callable[[str], Awaitable[None] | None]
"""Called with each piece of text as a streamed reply arrives."""


@dataclass(frozen=True, slots=True)
class ModelRequest:
    """One chat-completion request, in the OpenAI wire format.

    Attributes:
        model: the model name of the config entry.
        messages: the chat-completion messages (dicts); shared, never mutated.
        tools: tool schemas, ``[{"type": "function", "function": {...}}]``.
        params: other body parameters (temperature, max_tokens, ...).
        stream_handler: when set, the reply is streamed and each text delta is passed to it.
    """

    model: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    stream_handler: StreamHandler | None = None

    def body(self) -> dict[str, Any]:
        """The JSON body of ``POST /chat/completions``."""
        body: dict[str, Any] = {"model": self.model, "messages": self.messages, **self.params}
        if self.tools:
            body["tools"] = self.tools
        return body


@dataclass(frozen=True, slots=True)
class ModelResponse:
    """What the model answered, with what it cost in tokens.

    ``cost`` is None when the client does not know it; the caller prices it then.
    """

    message: Message
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    cost: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "message": self.message.to_dict(),
            "model": self.model,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "finish_reason": self.finish_reason,
            "cost": self.cost,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelResponse:
        return cls(
            message=Message.from_dict(data["message"]),
            model=data["model"],
            prompt_tokens=int(data.get("prompt_tokens", 0)),
            completion_tokens=int(data.get("completion_tokens", 0)),
            finish_reason=data.get("finish_reason"),
            cost=data.get("cost"),
        )


class ModelClient(Protocol):
    """A model back-end for one config entry.

    ``create`` raises :class:`~agents.errors.ModelError` for a failure that another config
    entry might not have (an HTTP error, a timeout); anything else is a bug and propagates.
    """

    async def create(self, request: ModelRequest) -> ModelResponse: ...

    async def aclose(self) -> None: ...
