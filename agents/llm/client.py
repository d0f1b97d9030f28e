"""An agent's model client: config entries tried in order, a response cache, usage totals.

This plays the part of AutoGen's ``OpenAIWrapper`` (``agent.client``): ``create`` tries
each ``config_list`` entry until one answers, records tokens and cost of every call in the
client's totals and in the open chat scopes, and reads and fills the response cache when
one applies.
"""

from __future__ import annotations

import inspect
import logging
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from .. import runtime_logging
from ..errors import ConfigurationError, ModelError
from .base import ModelClient, ModelRequest, ModelResponse, StreamHandler
from .cache import ResponseCache, as_response_cache, cache_key, disk_cache_for_seed
from .config import LLMConfig, ModelConfig, parse_llm_config
from .context import instantiate_messages
from .openai_client import OpenAIChatClient
from .pricing import cost_of
from .usage import Usage, notify_call, record_usage
from .vision import without_images

__all__ = ["LLMClient", "use_cache"]

_log = logging.getLogger(__name__)

_chat_cache: ContextVar[ResponseCache | Any] = ContextVar("threadcrew_chat_cache", default=None)


@contextmanager
def use_cache(cache: ResponseCache | Any) -> Iterator[None]:
    """Serve every model call in this context from ``cache`` (a chat's ``cache=`` argument).

    ``cache`` is a :class:`ResponseCache` or AutoGen's ``Cache`` (``Cache.disk()``, ``Cache.redis()``).
    """
    if cache is None:
        yield
        return
    token = _chat_cache.set(cache)
    try:
        yield
    finally:
        _chat_cache.reset(token)


class LLMClient:
    """The model client built from an agent's ``llm_config``.

    Raises:
        ConfigurationError: when ``llm_config`` is wrong (see :func:`parse_llm_config`).
    """

    def __init__(self, llm_config: Mapping[str, Any]) -> None:
        self.config: LLMConfig = parse_llm_config(llm_config)
        self.usage = Usage()
        self._clients: list[ModelClient | None] = [
            None if entry.model_client_cls else OpenAIChatClient(entry) for entry in self.config.entries
        ]
        if runtime_logging.logging_enabled():
            runtime_logging.log_new_wrapper(self, dict(llm_config))
            for entry, client in zip(self.config.entries, self._clients, strict=True):
                runtime_logging.log_new_client(client, self, {"model": entry.model, **entry.params})

    # -- custom model clients (AutoGen's model_client_cls) ---------------------------------

    def register_model_client(self, model_client_cls: type[Any], **kwargs: Any) -> None:
        """Instantiate ``model_client_cls(entry, **kwargs)`` for the entries that name it.

        Raises:
            ConfigurationError: when no config entry has ``model_client_cls`` set to its name.
        """
        name = model_client_cls.__name__
        matched = False
        for i, entry in enumerate(self.config.entries):
            if entry.model_client_cls == name:
                self._clients[i] = model_client_cls(entry, **kwargs)
                matched = True
        if not matched:
            raise ConfigurationError(
                f"no config_list entry has 'model_client_cls': {name!r}; add one before registering {name}"
            )

    # -- calls ---------------------------------------------------------------------------

    async def create(
        self,
        messages: list[dict[str, Any]],
        *,
        tools: list[dict[str, Any]] | None = None,
        stream_handler: StreamHandler | None = None,
        cache: ResponseCache | Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> ModelResponse:
        """Ask the model, trying each config entry in order until one answers.

        Args:
            messages: chat-completion messages, system message first.
            tools: tool schemas offered to the model.
            stream_handler: receives text deltas; the reply is streamed when set.
            cache: a response cache for this call; else the chat's, else ``cache_seed``'s.
            context: fills the messages' templates (AutoGen's message ``"context"``; see
                :mod:`agents.llm.context`).

        Raises:
            ModelError: every entry failed; names each failure.
            ConfigurationError: an entry's custom client was never registered.
        """
        if context:
            messages = instantiate_messages(messages, context, self.config.allow_format_str_template)
        if cache is None:
            cache = _chat_cache.get()
        # AutoGen's Cache is per seed: its keys are those of llm_config's cache_seed of the same value.
        seed = getattr(cache, "cache_seed", self.config.cache_seed)
        cache = as_response_cache(cache)
        if cache is None and self.config.cache_seed is not None:
            cache = disk_cache_for_seed(self.config.cache_path_root, self.config.cache_seed)
        failures: list[ModelError] = []
        started = datetime.now(UTC).isoformat()
        for entry, client in zip(self.config.entries, self._clients, strict=True):
            if client is None:
                raise ConfigurationError(
                    f"{entry.label} names model_client_cls {entry.model_client_cls!r}, which is not registered: "
                    f"call agent.register_model_client({entry.model_client_cls}, ...)"
                )
            sent = without_images(messages) if entry.vision is False else messages
            request = ModelRequest(entry.model, sent, list(tools or ()), dict(entry.params), stream_handler)
            key = cache_key(seed, request) if cache is not None else ""
            if cache is not None:
                hit = await cache.get(key)
                if hit is not None:
                    response = ModelResponse.from_json(hit)
                    await _replay_stream(stream_handler, response)
                    self._record(entry, response, cached=True, client=client, request=request, started=started)
                    return response
            began = time.monotonic()
            try:
                response = await client.create(request)
            except ModelError as exc:
                notify_call(entry.model, time.monotonic() - began, failed=True)
                failures.append(exc)
                _log.warning("model call failed: %s", exc)
                continue
            notify_call(response.model, time.monotonic() - began, failed=False)
            self._record(entry, response, cached=False, client=client, request=request, started=started)
            if cache is not None:
                await cache.set(key, response.to_json())
            return response
        last = failures[-1]
        if len(failures) == 1:
            raise ModelError(str(last), status=last.status, retry_after=last.retry_after, model=last.model) from last
        raise ModelError(
            f"all {len(failures)} model configs failed: " + "; ".join(str(f) for f in failures),
            status=last.status,
            retry_after=last.retry_after,
            model=last.model,
        ) from last

    def _record(
        self,
        entry: ModelConfig,
        response: ModelResponse,
        *,
        cached: bool,
        client: ModelClient,
        request: ModelRequest,
        started: str,
    ) -> None:
        cost = response.cost
        if cost is None:
            cost = cost_of(response.model, response.prompt_tokens, response.completion_tokens, entry.price)
        if runtime_logging.logging_enabled():
            sent = {"model": request.model, "messages": request.messages, "tools": request.tools, **request.params}
            runtime_logging.log_chat_completion(
                uuid.uuid4(), id(client), id(self), None, sent, response.to_json(), int(cached), cost, started
            )
        for record in (self.usage.record, record_usage):
            record(
                response.model,
                prompt_tokens=response.prompt_tokens,
                completion_tokens=response.completion_tokens,
                cost=cost,
                cached=cached,
            )

    # -- AutoGen's usage API ----------------------------------------------------------------

    @property
    def total_usage_summary(self) -> dict[str, Any] | None:
        """Usage including cache hits, or None before the first call."""
        summary = self.usage.summary()["usage_including_cached_inference"]
        return summary if len(summary) > 1 else None

    @property
    def actual_usage_summary(self) -> dict[str, Any] | None:
        """Usage of the calls that reached a model, or None before the first one."""
        summary = self.usage.summary()["usage_excluding_cached_inference"]
        return summary if len(summary) > 1 else None

    def print_usage_summary(self) -> None:
        """Print cost and tokens per model."""
        print(f"Total cost: {self.usage.total_cost:.6f} USD")
        for model, usage in self.usage.models():
            print(
                f"* Model '{model}': cost {usage.cost:.6f}, prompt tokens {usage.prompt_tokens}, "
                f"completion tokens {usage.completion_tokens}, total tokens {usage.total_tokens}"
            )

    def clear_usage_summary(self) -> None:
        self.usage.clear()

    async def aclose(self) -> None:
        """Close the HTTP clients of every config entry."""
        for client in self._clients:
            if client is not None:
                await client.aclose()


async def _replay_stream(handler: StreamHandler | None, response: ModelResponse) -> None:
    if handler is not None and response.message.text:
        result = handler(response.message.text)
        if inspect.isawaitable(result):
            await result
