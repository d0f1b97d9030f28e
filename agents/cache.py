"""AutoGen's ``Cache``: model responses kept on disk or in Redis, per seed.

::

    from agents import Cache

    with Cache.disk(cache_seed=7) as cache:                      # .cache/7/responses.sqlite
        user.initiate_chat(assistant, message="...", cache=cache)
    with Cache.redis(redis_url="redis://localhost:6379/0") as cache:
        user.initiate_chat(assistant, message="...", cache=cache)

A ``Cache`` is also a small key-value store (``get`` / ``set``, synchronous as in AutoGen;
``a_get`` / ``a_set`` from async code). Values must be JSON-ready. The disk cache is the one
``llm_config["cache_seed"]`` uses, so both spellings share their answers. In the bot, chats use
the database's cache instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

from ._sync import run_sync
from .errors import ConfigurationError
from .llm.cache import ResponseCache, disk_cache_for_seed
from .llm.redis_cache import RedisCache

__all__ = ["Cache"]

_CONFIG_KEYS = ("cache_seed", "redis_url", "cache_path_root")


class Cache:
    """A response cache for chats and model calls, and a key-value store.

    Args:
        config: ``cache_seed`` (default 42), and ``redis_url`` for Redis or ``cache_path_root``
            (default ``.cache``) for the disk.

    Raises:
        ConfigurationError: an unknown key in ``config``; ``redis_url`` without the ``redis`` package.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        unknown = sorted(set(config) - set(_CONFIG_KEYS))
        if unknown:
            raise ConfigurationError(f"unknown Cache config keys {unknown}; use {', '.join(_CONFIG_KEYS)}")
        self.config = dict(config)
        seed = self.config.get("cache_seed", 42)
        if not isinstance(seed, (int, str)):
            raise ConfigurationError(f"cache_seed must be an int or a string, not {seed!r}")
        self.cache_seed = seed
        redis_url = self.config.get("redis_url")
        if redis_url:
            self.response_cache: ResponseCache = RedisCache(seed, redis_url)
        else:
            self.response_cache = disk_cache_for_seed(self.config.get("cache_path_root") or ".cache", seed)

    @staticmethod
    def disk(cache_seed: int | str = 42, cache_path_root: str = ".cache") -> Cache:
        """A cache in ``<cache_path_root>/<cache_seed>/`` on this machine."""
        return Cache({"cache_seed": cache_seed, "cache_path_root": cache_path_root})

    @staticmethod
    def redis(cache_seed: int | str = 42, redis_url: str = "redis://localhost:6379/0") -> Cache:
        """A cache in the Redis database at ``redis_url`` (needs ``pip install redis``)."""
        return Cache({"cache_seed": cache_seed, "redis_url": redis_url})

    def get(self, key: str, default: Any = None) -> Any:
        """The value stored under ``key``, or ``default``."""
        value = run_sync(self.response_cache.get(key))
        return default if value is None else value

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` (JSON-ready) under ``key``."""
        run_sync(self.response_cache.set(key, value))

    async def a_get(self, key: str, default: Any = None) -> Any:
        """:meth:`get` for async code."""
        value = await self.response_cache.get(key)
        return default if value is None else value

    async def a_set(self, key: str, value: Any) -> None:
        """:meth:`set` for async code."""
        await self.response_cache.set(key, value)

    def close(self) -> None:
        """Release the backend's connections (Redis); the disk cache holds none between calls."""
        close = getattr(self.response_cache, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
