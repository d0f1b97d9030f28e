"""A model client for OpenAI-compatible ``/chat/completions`` endpoints, on the official package.

It serves OpenAI, Azure OpenAI, and anything that speaks the same API (Ollama, vLLM,
OpenRouter, LM Studio, ...). The ``openai`` client does the HTTP work: auth, retries with
exponential backoff on 408/409/429/5xx and connection errors, ``Retry-After`` honoured.

The body is posted with ``client.post`` rather than ``chat.completions.create``: the
messages are already in wire form, and ``create``'s recursive parameter transform costs
tens of milliseconds per call on long transcripts while adding nothing here. The answer is
taken as the raw HTTP response and read as JSON: building the typed ``ChatCompletion`` costs
a quarter of the client's time per request and we keep four fields of it. Auth, retries and
the error types are the client's either way.

One ``AsyncOpenAI`` exists per event loop and connection settings (connection pools belong to a
loop, and a team of agents on one endpoint needs one client, not one each); all of them share
one HTTP connection pool per loop, closed by :func:`agents._sync.aclose_loop_resources`.
The pool is the client's aiohttp transport (``DefaultAioHttpClient``): under hundreds of
concurrent chats, httpcore's pool spends its time rescanning its queue on every request.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import weakref
from collections.abc import Mapping
from typing import Any

import httpx2
import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from .._sync import on_loop_close
from ..errors import ModelError
from ..messages import Message, ToolCall
from .base import ModelRequest, ModelResponse
from .config import ModelConfig

__all__ = ["OpenAIChatClient"]

_log = logging.getLogger(__name__)

_http_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, openai.DefaultAioHttpClient] = (
    weakref.WeakKeyDictionary()
)
_api_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, openai.AsyncOpenAI]] = (
    weakref.WeakKeyDictionary()
)


def _shared_http_client() -> openai.DefaultAioHttpClient:
    loop = asyncio.get_running_loop()
    client = _http_clients.get(loop)
    if client is None or client.is_closed:
        client = _http_clients[loop] = openai.DefaultAioHttpClient()
        on_loop_close(client.aclose)
    return client


class OpenAIChatClient:
    """The :class:`~agents.llm.base.ModelClient` of an ``openai`` or ``azure`` config entry."""

    def __init__(self, config: ModelConfig) -> None:
        self._config = config
        self._key = json.dumps(
            [config.api_type, config.max_retries, config.timeout, sorted(config.connection.items())], default=str
        )

    def _client(self) -> openai.AsyncOpenAI:
        clients = _api_clients.setdefault(asyncio.get_running_loop(), {})
        client = clients.get(self._key)
        if client is None or client.is_closed():
            client = clients[self._key] = self._new_client()
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
        """Nothing to do: the clients are shared per loop and closed with the loop's resources."""

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
            raw = await self._client().post("/chat/completions", body=body, cast_to=httpx2.Response)
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
        try:
            completion = json.loads(raw.content)
        except ValueError as exc:
            raise ModelError(f"{self._config.label}: the endpoint answered with something that is not JSON") from exc
        return _response_from_completion(completion, request.model, self._config.label)

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


def _response_from_completion(completion: Any, requested_model: str, label: str) -> ModelResponse:
    """A chat completion (the JSON of ``POST /chat/completions``) as a response."""
    try:
        choice = completion["choices"][0]
        message = choice["message"]
        tool_calls = tuple(
            ToolCall(call["id"], call["function"]["name"], call["function"].get("arguments") or "{}")
            for call in message.get("tool_calls") or ()
            if call.get("type", "function") == "function"
        )
    except (KeyError, IndexError, TypeError) as exc:
        raise ModelError(f"{label}: the endpoint's answer is not a chat completion ({exc!r} is missing)") from exc
    content = message.get("content")
    if content is None and not tool_calls:
        content = message.get("refusal") or ""
    usage = completion.get("usage") or {}
    return ModelResponse(
        message=Message(role="assistant", content=content, tool_calls=tool_calls),
        model=completion.get("model") or requested_model,
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        finish_reason=choice.get("finish_reason"),
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
