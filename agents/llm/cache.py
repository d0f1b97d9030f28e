"""The response cache: the same request with the same ``cache_seed`` gets the same answer.

Used only when ``cache_seed`` is set in ``llm_config`` (or a cache is passed to a chat).
The default is a small SQLite file per seed under ``.cache/`` (AutoGen's layout), so that
re-running a script replays its model answers without calling the model again. The thread
runtime passes a cache backed by its own database instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import Any, Protocol

from .base import ModelRequest

__all__ = ["DiskCache", "InMemoryCache", "ResponseCache", "as_response_cache", "cache_key", "disk_cache_for_seed"]


class ResponseCache(Protocol):
    """Where cached model responses live; values are JSON-ready dicts."""

    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def set(self, key: str, value: dict[str, Any]) -> None: ...


def as_response_cache(cache: Any) -> ResponseCache | None:
    """The async store behind a cache given to a chat or a call: AutoGen's ``Cache`` holds one."""
    backend = getattr(cache, "response_cache", None)
    return cache if backend is None else backend  # type: ignore[no-any-return]


def cache_key(seed: int | str | None, request: ModelRequest) -> str:
    """A stable key for a request: the seed plus everything that shapes the answer."""
    payload = {
        "seed": seed,
        "model": request.model,
        "messages": request.messages,
        "tools": request.tools,
        "params": request.params,
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


class InMemoryCache:
    """A cache that lives as long as the process."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, Any]] = {}

    async def get(self, key: str) -> dict[str, Any] | None:
        return self._data.get(key)

    async def set(self, key: str, value: dict[str, Any]) -> None:
        self._data[key] = value

    def __len__(self) -> int:
        return len(self._data)


class DiskCache:
    """A cache in one SQLite file; reads and writes run off the event loop."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30)
        if not self._ready:
            conn.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._ready = True
        return conn

    def _get(self, key: str) -> dict[str, Any] | None:
        with self._lock, closing(self._connect()) as conn:
            row = conn.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def _set(self, key: str, value: dict[str, Any]) -> None:
        with self._lock, closing(self._connect()) as conn, conn:
            conn.execute("INSERT OR REPLACE INTO responses (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    async def get(self, key: str) -> dict[str, Any] | None:
        return await asyncio.to_thread(self._get, key)

    async def set(self, key: str, value: dict[str, Any]) -> None:
        await asyncio.to_thread(self._set, key, value)


_disk_caches: dict[Path, DiskCache] = {}


def disk_cache_for_seed(root: str | Path, seed: int | str) -> DiskCache:
    """The shared disk cache of one seed: ``<root>/<seed>/responses.sqlite``."""
    path = (Path(root) / str(seed) / "responses.sqlite").resolve()
    cache = _disk_caches.get(path)
    if cache is None:
        cache = _disk_caches[path] = DiskCache(path)
    return cache
