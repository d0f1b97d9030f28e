"""One webhook per parent channel: created once, remembered in the bot's store, made again when gone.

Agents post through a channel's webhook under their own name and avatar (``thread=`` puts the
post in a thread of that channel). Without the Manage Webhooks permission there is no webhook:
the platform then posts as the bot, each agent's name in bold, and says once in the log why.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import discord

from ._errors import MISSING_PERMISSIONS, discord_code, platform_errors

__all__ = ["MemoryStateStore", "StateStore", "WebhookBook"]

_log = logging.getLogger(__name__)
WEBHOOK_NAME = "threadcrew"


class StateStore(Protocol):
    """A small JSON value per key, kept across restarts (the bot's ``platform_state`` table)."""

    async def get(self, key: str) -> Any | None: ...

    async def put(self, key: str, value: Any) -> None: ...

    async def delete(self, key: str) -> None: ...


class MemoryStateStore:
    """A StateStore that forgets on exit (tests; a bot without a database)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    async def get(self, key: str) -> Any | None:
        return self.values.get(key)

    async def put(self, key: str, value: Any) -> None:
        self.values[key] = value

    async def delete(self, key: str) -> None:
        self.values.pop(key, None)


class WebhookBook:
    """The webhooks of the channels the bot posts in."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self._hooks: dict[str, discord.Webhook] = {}
        self._refused: set[str] = set()  # channels where the bot may not manage webhooks
        self.ids: set[int] = set()  # our webhooks' ids: their messages are the bot's own

    async def get(self, client: discord.Client, channel_id: str) -> discord.Webhook | None:
        """The channel's webhook (made now when it has none); None without the permission.

        Raises:
            PlatformError: Discord refused for another reason, or could not be reached.
        """
        if channel_id in self._refused:
            return None
        hook = self._hooks.get(channel_id)
        if hook is not None:
            return hook
        stored = await self.store.get(f"webhook:{channel_id}")
        if stored is None:
            try:
                with platform_errors("creating the channel's webhook"):
                    made = await client.http.create_webhook(int(channel_id), name=WEBHOOK_NAME)
            except Exception as exc:
                if discord_code(exc.__cause__ or exc) != MISSING_PERMISSIONS:
                    raise
                self._refused.add(channel_id)
                _log.warning(
                    "threadcrew may not manage webhooks in channel %s: agents post under the bot's name, their "
                    "own in bold (give the bot the Manage Webhooks permission there for personas)",
                    channel_id,
                )
                return None
            stored = {"id": str(made["id"]), "token": made["token"]}
            await self.store.put(f"webhook:{channel_id}", stored)
        hook = discord.Webhook.partial(int(stored["id"]), stored["token"], client=client)
        self._hooks[channel_id] = hook
        self.ids.add(hook.id)
        return hook

    async def forget(self, channel_id: str) -> None:
        """The channel's webhook is gone (deleted by someone): the next post makes a new one."""
        self._hooks.pop(channel_id, None)
        await self.store.delete(f"webhook:{channel_id}")

    async def is_ours(self, webhook_id: int, channel_id: str) -> bool:
        """Whether ``webhook_id`` is the bot's own webhook (of ``channel_id``, or one it used)."""
        if webhook_id in self.ids:
            return True
        stored = await self.store.get(f"webhook:{channel_id}")
        return stored is not None and str(stored.get("id")) == str(webhook_id)
