"""A response cache in Redis (or anything that speaks its protocol: Valkey, KeyDB, ...).

Keys are ``autogen:<seed>:<key>`` as in AutoGen, so seeds share one database without mixing.
The ``redis`` package is optional: install it (``pip install redis``) to use this cache.
Calls go through redis-py's thread-safe client in worker threads, so one cache serves any
event loop (the sync API runs each call on a loop of its own).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ..errors import ConfigurationError

__all__ = ["RedisCache"]


class RedisCache:
    """A :class:`~agents.llm.cache.ResponseCache` in a Redis database.

    Args:
        seed: the namespace of this cache's keys.
        redis_url: where the server is (``redis://host:port/db``, ``rediss://``, ``unix://``).

    Raises:
        ConfigurationError: the ``redis`` package is not installed.
    """

    def __init__(self, seed: int | str, redis_url: str) -> None:
        try:
            import redis  # noqa: PLC0415 - optional: only a Redis-backed cache needs it
        except ImportError as exc:
            raise ConfigurationError(
                "Cache.redis needs the 'redis' package: pip install redis (or use Cache.disk)"
            ) from exc
        self.seed = seed
        self.redis_url = redis_url
        self._client: Any = redis.Redis.from_url(redis_url)

    def _key(self, key: str) -> str:
        return f"autogen:{self.seed}:{key}"

    def _get(self, key: str) -> Any:
        raw = self._client.get(self._key(key))
        return None if raw is None else json.loads(raw)

    def _set(self, key: str, value: Any) -> None:
        self._client.set(self._key(key), json.dumps(value))

    async def get(self, key: str) -> Any:
        """The value stored under ``key``, or None."""
        return await asyncio.to_thread(self._get, key)

    async def set(self, key: str, value: Any) -> None:
        """Store ``value`` (JSON-ready) under ``key``."""
        await asyncio.to_thread(self._set, key, value)

    def close(self) -> None:
        """Close the connections to the server."""
        self._client.close()
