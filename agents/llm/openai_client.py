"""A model client for OpenAI-compatible ``/chat/completions`` endpoints, on the official package.

It serves OpenAI, Azure OpenAI, and anything that speaks the same API (Ollama, vLLM,
OpenRouter, LM Studio, ...). The ``openai`` client does the HTTP work: auth, retries with
exponential backoff on 408/409/429/5xx and connection errors, ``Retry-After`` honoured.

The body is posted with ``client.post`` rather than ``chat.completions.create``: the
messages are already in wire form, and ``create``'s recursive parameter transform costs
tens of milliseconds per call on long transcripts while adding nothing here. Auth, retries
and the error types are the same either way.

One ``AsyncOpenAI`` exists per event loop (connection pools belong to a loop); all of them
share one HTTP connection pool per loop, closed by :func:`agents._sync.aclose_loop_resources`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import weakref
from collections.abc import Mapping
from typing import Any

import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessageFunctionToolCall

from .._sync import on_loop_close
from ..errors import ModelError
from ..messages import Message, ToolCall
from .base import ModelRequest, ModelResponse
from .config import ModelConfig

__all__ = ["OpenAIChatClient"]

_log = logging.getLogger(__name__)

_http_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, openai.DefaultAsyncHttpxClient] = (
    weakref.WeakKeyDictionary()
)


def _shared_http_client() -> openai.DefaultAsyncHttpxClient:
    loop = asyncio.get_running_loop()
    client = _http_clients.get(loop)
    if client is None or client.is_closed:
        client = _http_clients[loop] = openai.DefaultAsyncHttpxClient()
        on_loop_close(client.aclose)
    return client


class OpenAIChatClient:
    """The :class:`~agents.llm.base.ModelClient` of an ``openai`` or ``azure`` config entry."""

    def __init__(self, config: ModelConfig) -> None:
        self._config = config
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, openai.AsyncOpenAI] = (
            weakref.WeakKeyDictionary()
        )

    def _client(self) -> openai.AsyncOpenAI:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None or client.is_closed():
            client = self._clients[loop] = self._new_client()
        return client

    def _new_client(self) -> openai.AsyncOpenAI:
        conn = dict(self._config.connection)
        common: dict[str, Any] = {
            "max_retries": self._config.max_retries,
            "http_client": _shared_http_client(),
            "default_headers": conn.pop("default_headers", None),
        }
        if self._config.timeout is not None:
            common["timeout"] = self._config.timeout
        if self._config.api_type == "azure":
            endpoint = conn.pop("azure_endpoint", None)
            base_url = conn.pop("base_url", None)
            if endpoint is None and base_url is not None and "/openai" not in base_url:
                endpoint, base_url = base_url, None
            if endpoint is not None:
                return openai.AsyncAzureOpenAI(azure_endpoint=endpoint, **conn, **common)
            return openai.AsyncAzureOpenAI(base_url=base_url, **conn, **common)
        plain = {k: conn[k] for k in ("api_key", "base_url", "organization") if k in conn}
        return openai.AsyncOpenAI(**plain, **common)

    async def aclose(self) -> None:
        clients = list(self._clients.values())
        self._clients.clear()
        for client in clients:
            await client.close()

    async def create(self, request: ModelRequest) -> ModelResponse:
        """Post the request; stream it when it has a stream handler.

        Raises:
            ModelError: the endpoint failed after the client's retries (status and
                ``retry_after`` kept), timed out, or could not be reached.
        """
        body = request.body()
        try:
            if request.stream_handler is not None:
                return await self._create_streaming(body, request)
            completion = await self._client().post("/chat/completions", body=body, cast_to=ChatCompletion)
        except openai.APIStatusError as exc:
            raise ModelError(
                f"{self._config.label}: HTTP {exc.status_code}: {_error_text(exc)}",
                status=exc.status_code,
                retry_after=_retry_after(exc.response.headers),
                model=self._config.model,
            ) from exc
        except openai.APITimeoutError as exc:
            raise ModelError(f"{self._config.label}: the request timed out", model=self._config.model) from exc
        except openai.APIConnectionError as exc:
            raise ModelError(
                f"{self._config.label}: cannot reach the endpoint: {exc}", model=self._config.model
            ) from exc
        return _response_from_completion(completion, request.model)

    async def _create_streaming(self, body: dict[str, Any], request: ModelRequest) -> ModelResponse:
        handler = request.stream_handler
        assert handler is not None
        body = {**body, "stream": True, "stream_options": {"include_usage": True}}
        stream = await self._client().post(
            "/chat/completions",
            body=body,
            cast_to=ChatCompletion,
            stream=True,
            stream_cls=openai.AsyncStream[ChatCompletionChunk],
        )
        text: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        model, finish, usage = request.model, None, None
        async with stream:
            async for chunk in stream:
                model = chunk.model or model
                usage = chunk.usage or usage
                for choice in chunk.choices[:1]:
                    finish = choice.finish_reason or finish
                    delta = choice.delta
                    if delta.content:
                        text.append(delta.content)
                        result = handler(delta.content)
                        if inspect.isawaitable(result):
                            await result
                    for call in delta.tool_calls or ():
                        slot = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                        slot["id"] = call.id or slot["id"]
                        if call.function is not None:
                            slot["name"] = call.function.name or slot["name"]
                            slot["arguments"] += call.function.arguments or ""
        tool_calls = tuple(ToolCall(c["id"], c["name"], c["arguments"] or "{}") for _, c in sorted(calls.items()))
        content = "".join(text)
        return ModelResponse(
            message=Message(
                role="assistant",
                content=content if content or not tool_calls else None,
                tool_calls=tool_calls,
            ),
            model=model,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            finish_reason=finish,
        )


def _response_from_completion(completion: ChatCompletion, requested_model: str) -> ModelResponse:
    if not completion.choices:
        raise ModelError(f"the endpoint answered without choices (model {completion.model or requested_model})")
    choice = completion.choices[0]
    msg = choice.message
    tool_calls = tuple(
        ToolCall(call.id, call.function.name, call.function.arguments or "{}")
        for call in (msg.tool_calls or ())
        if isinstance(call, ChatCompletionMessageFunctionToolCall)
    )
    content = msg.content
    if content is None and not tool_calls:
        content = msg.refusal or ""
    usage = completion.usage
    return ModelResponse(
        message=Message(role="assistant", content=content, tool_calls=tool_calls),
        model=completion.model or requested_model,
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
        finish_reason=choice.finish_reason,
    )


def _error_text(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, Mapping) and error.get("message"):
            return str(error["message"])
    return exc.message


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                return float(value) / divisor
            except ValueError:
                return None
    return None
