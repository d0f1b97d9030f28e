"""A model client backed by a Python function: for demos, tests and offline runs.

::

    def echo(request: ModelRequest) -> str:
        return "You said: " + request.messages[-1]["content"]

    assistant = AssistantAgent("assistant", llm_config={"config_list": [
        {"model": "echo", "model_client_cls": "FunctionModelClient"}]})
    assistant.register_model_client(FunctionModelClient, fn=echo)

The function gets the :class:`~agents.llm.base.ModelRequest` and returns the reply as a
string, a message (str content and/or tool calls), or a whole
:class:`~agents.llm.base.ModelResponse`; it may be async. Token counts are estimated
(four characters a token) and cost nothing unless it returns a ModelResponse.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias

from ..messages import Message
from .base import ModelRequest, ModelResponse
from .config import ModelConfig

__all__ = ["FunctionModelClient", "ModelFunction"]

ModelFunction: TypeAlias = Callable[
    [ModelRequest], "str | Message | Mapping[str, Any] | ModelResponse | Awaitable[Any]"
]


class FunctionModelClient:
    """A :class:`~agents.llm.base.ModelClient` that asks a function instead of a model."""

    def __init__(self, config: ModelConfig, *, fn: ModelFunction) -> None:
        self._config = config
        self._fn = fn

    async def create(self, request: ModelRequest) -> ModelResponse:
        result = self._fn(request)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, ModelResponse):
            return result
        if isinstance(result, str):
            message = Message(role="assistant", content=result)
        elif isinstance(result, Message):
            message = result
        else:
            message = Message.from_dict(result, role="assistant")
        if request.stream_handler is not None and message.text:
            streamed = request.stream_handler(message.text)
            if inspect.isawaitable(streamed):
                await streamed
        prompt = json.dumps(request.messages, default=str)
        return ModelResponse(
            message=message,
            model=self._config.model,
            prompt_tokens=len(prompt) // 4,
            completion_tokens=max(1, len(message.text) // 4),
            finish_reason="tool_calls" if message.tool_calls else "stop",
            cost=0.0,
        )

    async def aclose(self) -> None:
        return None
