"""Files people share in a Slack thread, fetched with the bot's token when the message arrives.

Slack's ``url_private_download`` needs the bot token (scope ``files:read``); without it Slack
answers with its sign-in page, not an error, which is why an HTML answer counts as a refusal.
The token is only ever sent to Slack's own file host (or the API's host: a proxy, a test fake).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import aiohttp

from ..files import Offered, fetch_images
from ..thread import Attachment, SkippedFile
from .payloads import MessageEvent, SharedFile

__all__ = ["FILE_HOST", "SlackFiles"]

_log = logging.getLogger(__name__)

FILE_HOST = "files.slack.com"


class SlackFiles:
    """Fetches the images of a message for one Slack API address (and its file host).

    Args:
        api_url: the Web API's address; its host may serve files too.
        max_bytes, max_count: the limits of :func:`~adapters.files.fetch_images`.
        timeout: seconds for one file.
    """

    def __init__(self, api_url: str, *, max_bytes: int, max_count: int, timeout: float = 10.0) -> None:
        self._hosts = frozenset({FILE_HOST, urlsplit(api_url).hostname or FILE_HOST})
        self._max_bytes = max_bytes
        self._max_count = max_count
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def images(
        self, event: MessageEvent, token: str | None
    ) -> tuple[tuple[Attachment, ...], tuple[SkippedFile, ...]]:
        """The images shared with ``event`` (fetched with ``token``), and the files left out."""
        shared = event.get("files") or []
        if not shared:
            return (), ()
        offered = [
            Offered(f.get("name") or f.get("title") or "file", f.get("mimetype", ""), int(f.get("size", 0)), f)
            for f in shared
        ]
        async with aiohttp.ClientSession(timeout=self._timeout) as session:

            async def fetch(file: SharedFile) -> bytes | None:
                return await self._download(session, file, token)

            return await fetch_images(offered, fetch, max_bytes=self._max_bytes, max_count=self._max_count)

    async def _download(self, session: aiohttp.ClientSession, file: SharedFile, token: str | None) -> bytes | None:
        name = file.get("name", "a file")
        url = file.get("url_private_download") or file.get("url_private") or ""
        if not token or urlsplit(url).hostname not in self._hosts:
            _log.info("not fetching %s: no token, or %r is not Slack's file host", name, url[:80])
            return None
        try:
            async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as answer:
                if answer.status != 200 or answer.content_type == "text/html":  # the sign-in page: files:read missing
                    _log.info(
                        "Slack did not give %s (HTTP %d, %s): is files:read granted?",
                        name,
                        answer.status,
                        answer.content_type,
                    )
                    return None
                return await answer.content.read(self._max_bytes + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            _log.info("could not fetch %s: %r", name, exc)
            return None
