"""Where each conversation's thread is on its platform, for the console's links.

Discord's address is made from the ids; Slack's needs the workspace's address, asked of Slack
once by a process that serves Slack and kept in ``platform_state`` (so that a console in any
process links to it); a web thread is the console's own page. Other platforms get no link.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import adapters.discord
import adapters.slack
from adapters import AdapterError
from storage import ConversationRecord

from .auth import PREFIX

if TYPE_CHECKING:
    from .console import Console

__all__ = ["ThreadLinks"]

_log = logging.getLogger(__name__)
SLACK = "slack"


class ThreadLinks:
    def __init__(self, console: Console) -> None:
        self.console = console
        self._slack_urls: dict[str, str] = {}  # workspace id -> its address (read or asked once)

    async def of(self, records: Iterable[ConversationRecord]) -> dict[int, str]:
        """Each conversation's thread link, by conversation id (none for those that cannot link)."""
        links = {}
        for record in records:
            link = await self.link(record)
            if link is not None:
                links[record.id] = link
        return links

    async def link(self, record: ConversationRecord) -> str | None:
        if record.platform == "web":
            return f"{PREFIX}/web/{record.thread_id}"
        if record.platform == "discord" and record.workspace_id:
            return adapters.discord.thread_url(record.workspace_id, record.thread_id)
        if record.platform == SLACK:
            workspace = await self._slack_workspace_url(record.workspace_id)
            return adapters.slack.thread_url(workspace, record.channel_id, record.thread_id) if workspace else None
        return None

    async def _slack_workspace_url(self, workspace_id: str) -> str | None:
        url = self._slack_urls.get(workspace_id)
        if url is not None:
            return url
        key = f"workspace-url:{workspace_id}"
        stored = await self.console.db.stores.platform_state.get(SLACK, key)
        if isinstance(stored, str):
            url = stored
        else:
            slack = self.console.served(SLACK)
            if not isinstance(slack, adapters.slack.SlackPlatform):
                return None  # not served here, and no process that serves it has asked yet
            try:
                found = await slack.workspace_url(workspace_id)
            except AdapterError as exc:
                _log.warning("no link to Slack workspace %s's threads: %s", workspace_id, exc)
                return None
            if found is None:
                return None
            url = found
            await self.console.db.stores.platform_state.put(SLACK, key, url)
        self._slack_urls[workspace_id] = url
        return url
