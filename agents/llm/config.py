"""``llm_config`` as AutoGen users write it, checked once and normalised.

::

    llm_config = {
        "config_list": [                       # tried in order until one answers
            {"model": "gpt-4o-mini", "api_key": "...", "base_url": "...", "price": [0.00015, 0.0006]},
            {"model": "llama3", "base_url": "http://localhost:11434/v1", "api_key": "x",
             "vision": False},                 # text only: images become a note (see llm/vision.py)
            {"model": "my-deployment", "api_type": "azure", "api_version": "2024-06-01",
             "base_url": "https://x.openai.azure.com"},
        ],
        "temperature": 0,                      # body parameters apply to every entry
        "timeout": 60, "max_retries": 2,       # per request; retries honour Retry-After
        "cache_seed": None,                    # set it to cache responses on disk
        "stream": False,
        "allow_format_str_template": False,    # True: a message's "context" fills "{key}" in contents
        "tools": [...],                        # filled by register_for_llm
    }

A single entry may also be written flat: ``{"model": "gpt-4o", "api_key": "..."}``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigurationError

__all__ = ["API_TYPES", "LLMConfig", "ModelConfig", "parse_llm_config"]

API_TYPES = ("openai", "azure")

# Keys that configure the connection or our handling; every other key goes into the request body.
_CONNECTION_KEYS = frozenset(
    {
        "api_key",
        "base_url",
        "api_version",
        "organization",
        "default_headers",
        "azure_endpoint",
        "azure_deployment",
        "azure_ad_token",
    }
)
_HANDLING_KEYS = frozenset(
    {"model", "api_type", "price", "tags", "model_client_cls", "max_retries", "timeout", "vision"}
)
_TOP_LEVEL_ONLY = frozenset(
    {"config_list", "cache_seed", "cache_path_root", "stream", "tools", "allow_format_str_template"}
)


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """One entry of ``config_list``, normalised.

    ``vision``: whether the model sees images; False turns them into a note (None: unknown,
    sent as they are, as AutoGen does).
    """

    index: int
    model: str
    api_type: str
    connection: Mapping[str, Any]
    params: Mapping[str, Any]
    price: tuple[float, float] | None
    max_retries: int
    timeout: float | None
    model_client_cls: str | None
    vision: bool | None = None

    @property
    def label(self) -> str:
        """How errors name this entry."""
        return f"config_list[{self.index}] ({self.model})"


@dataclass(frozen=True, slots=True)
class LLMConfig:
    """The whole ``llm_config``, normalised (tools stay with the agent)."""

    entries: tuple[ModelConfig, ...]
    cache_seed: int | str | None
    cache_path_root: str
    stream: bool
    allow_format_str_template: bool = False


def parse_llm_config(llm_config: Mapping[str, Any]) -> LLMConfig:
    """Check an ``llm_config`` dict and normalise it.

    Raises:
        ConfigurationError: naming the key that is wrong and how to fix it.
    """
    if "functions" in llm_config:
        raise ConfigurationError(
            "llm_config['functions'] is the retired function-calling API; "
            "register tools with register_for_llm / register_function, or pass llm_config['tools']"
        )
    raw_list = llm_config.get("config_list")
    shared = {k: v for k, v in llm_config.items() if k not in _TOP_LEVEL_ONLY}
    if raw_list is None:
        if not llm_config.get("model"):
            raise ConfigurationError(
                "llm_config has no model: set llm_config={'config_list': [{'model': ..., 'api_key': ...}]}, "
                "or llm_config=False for an agent that does not use a model"
            )
        raw_list = [{}]
    if not isinstance(raw_list, list) or not raw_list:
        raise ConfigurationError("llm_config['config_list'] must be a non-empty list of dicts, one per model endpoint")
    entries = tuple(_parse_entry(i, entry, shared) for i, entry in enumerate(raw_list))
    cache_seed = llm_config.get("cache_seed")
    if cache_seed is not None and not isinstance(cache_seed, (int, str)):
        raise ConfigurationError("llm_config['cache_seed'] must be an int, a string or None (no cache)")
    return LLMConfig(
        entries=entries,
        cache_seed=cache_seed,
        cache_path_root=str(llm_config.get("cache_path_root", ".cache")),
        stream=bool(llm_config.get("stream", False)),
        allow_format_str_template=bool(llm_config.get("allow_format_str_template", False)),
    )


def _parse_entry(index: int, entry: Any, shared: Mapping[str, Any]) -> ModelConfig:
    where = f"llm_config['config_list'][{index}]"
    if not isinstance(entry, Mapping):
        raise ConfigurationError(f"{where} must be a dict like {{'model': 'gpt-4o-mini', 'api_key': ...}}")
    merged = {**shared, **entry}
    model = merged.get("model")
    if not isinstance(model, str) or not model:
        raise ConfigurationError(f"{where} has no 'model'; add e.g. 'model': 'gpt-4o-mini'")
    api_type = merged.get("api_type") or "openai"
    if api_type not in API_TYPES and not merged.get("model_client_cls"):
        raise ConfigurationError(
            f"{where}: api_type {api_type!r} is not supported; use one of {', '.join(API_TYPES)} "
            "(any OpenAI-compatible server, e.g. Ollama or vLLM, is 'openai' with its 'base_url'), "
            "or a custom client with 'model_client_cls'"
        )
    price = merged.get("price")
    if price is not None:
        if not (isinstance(price, (list, tuple)) and len(price) == 2 and all(_is_number(p) for p in price)):
            raise ConfigurationError(f"{where}: 'price' must be [input_per_1k_tokens, output_per_1k_tokens] in USD")
        price = (float(price[0]), float(price[1]))
    max_retries = merged.get("max_retries", 2)
    if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
        raise ConfigurationError(f"{where}: 'max_retries' must be a non-negative integer")
    timeout = merged.get("timeout")
    if timeout is not None and (not _is_number(timeout) or timeout <= 0):
        raise ConfigurationError(f"{where}: 'timeout' must be a positive number of seconds")
    vision = merged.get("vision")
    if vision is not None and not isinstance(vision, bool):
        raise ConfigurationError(f"{where}: 'vision' must be true or false (whether the model can see images)")
    connection = {k: v for k, v in merged.items() if k in _CONNECTION_KEYS}
    if not merged.get("model_client_cls"):
        _check_credentials(where, api_type, connection)
    return ModelConfig(
        index=index,
        model=model,
        api_type=api_type,
        connection=connection,
        params={k: v for k, v in merged.items() if k not in _CONNECTION_KEYS and k not in _HANDLING_KEYS},
        price=price,
        max_retries=max_retries,
        timeout=float(timeout) if timeout is not None else None,
        model_client_cls=merged.get("model_client_cls"),
        vision=vision,
    )


def _check_credentials(where: str, api_type: str, connection: Mapping[str, Any]) -> None:
    if api_type == "azure":
        if not (
            connection.get("api_key") or connection.get("azure_ad_token") or os.environ.get("AZURE_OPENAI_API_KEY")
        ):
            raise ConfigurationError(f"{where} has no 'api_key' and AZURE_OPENAI_API_KEY is not set; set one of them")
        if not (
            connection.get("base_url") or connection.get("azure_endpoint") or os.environ.get("AZURE_OPENAI_ENDPOINT")
        ):
            raise ConfigurationError(
                f"{where} (azure) has no 'base_url' or 'azure_endpoint' and AZURE_OPENAI_ENDPOINT is not set"
            )
    elif not (connection.get("api_key") or os.environ.get("OPENAI_API_KEY")):
        raise ConfigurationError(
            f"{where} has no 'api_key' and OPENAI_API_KEY is not set; set one of them "
            "(local servers such as Ollama accept any non-empty key)"
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
