"""Word, within this process, that a conversation's stored messages or status changed.

The stores say so once a write is committed; the console's live views wait for it instead of
reading the database over and over. Only this process's writes are told: a view that must see
other processes' writes too (several bot processes on PostgreSQL) also looks on a slow timer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["ConversationChanges"]


class ConversationChanges:
    """Who waits for which conversation, and the word that it changed."""

    def __init__(self) -> None:
        self._watching: dict[int, set[asyncio.Event]] = {}

    def changed(self, conversation_id: int) -> None:
        """Wake everyone watching ``conversation_id`` (called after the write is committed)."""
        for flag in self._watching.get(conversation_id, ()):
            flag.set()

    @contextmanager
    def watch(self, conversation_id: int) -> Iterator[asyncio.Event]:
        """A flag set whenever ``conversation_id`` changes, while the ``with`` lasts.

        Clear it before reading the conversation: a change during the read sets it again,
        so none is missed.
        """
        flag = asyncio.Event()
        watchers = self._watching.setdefault(conversation_id, set())
        watchers.add(flag)
        try:
            yield flag
        finally:
            watchers.discard(flag)
            if not watchers:
                del self._watching[conversation_id]
