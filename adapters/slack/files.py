"""Files people share in a Slack thread, fetched with the bot's token when the message arrives.

Slack's ``url_private_download`` needs the bot token (scope ``files:read``); without it Slack
answers with its sign-in page, not an error, which is why an HTML answer counts as a refusal.
The token is only ever sent to Slack's own file host (or the API's host: a proxy, a test fake).

Slack sends a mention twice (``app_mention`` and ``message``, two event ids, one channel and
``ts``), and both copies reach the listener before the bot drops one as a duplicate. Each copy
must still be answered only once it is kept with its images, so both wait for the same fetch: the
first copy of a mention starts it, and its result stays for the other copy for a short while
(other messages come once: nothing of theirs is kept).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from urllib.parse import urlsplit

import aiohttp

from ..files import Offered, fetch_images
from ..thread import Attachment, SkippedFile
from .payloads import MessageEvent, SharedFile

__all__ = ["FILE_HOST", "SlackFiles"]

_log = logging.getLogger(__name__)

FILE_HOST = "files.slack.com"

Fetched = tuple[tuple[Attachment, ...], tuple[SkippedFile, ...]]
_KEPT_MESSAGES = 16  # the fetches kept for a second copy at once (up to 4 images of 8 MiB each); oldest out first


class SlackFiles:
    """Fetches the images of a message for one Slack API address (and its file host).

    Args:
        api_url: the Web API's address; its host may serve files too.
        max_bytes, max_count: the limits of :func:`~adapters.files.fetch_images`.
        timeout: seconds for one file.
        keep: seconds a message's fetch serves its other copy, from when it started.
        clock: monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        api_url: str,
        *,
        max_bytes: int,
        max_count: int,
        timeout: float = 10.0,
        keep: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._hosts = frozenset({FILE_HOST, urlsplit(api_url).hostname or FILE_HOST})
        self._max_bytes = max_bytes
        self._max_count = max_count
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._keep = keep
        self._clock = clock
        self._fetches: OrderedDict[tuple[str, str], tuple[float, asyncio.Future[Fetched]]] = OrderedDict()

    async def images(self, event: MessageEvent, token: str | None) -> Fetched:
        """The images shared with ``event`` (fetched with ``token``), and the files left out.

        The first copy of a mention fetches; its other copy (same channel and ``ts``) takes
        that fetch's result, waiting for it when it is still under way.
        """
        shared = event.get("files") or []
        if not shared:
            return (), ()
        key = (event.get("channel", ""), event.get("ts", ""))
        self._forget_old()
        kept = self._fetches.pop(key, None)
        if kept is None:
            fetch: asyncio.Future[Fetched] = asyncio.ensure_future(self._fetch(shared, token))
            if self._comes_twice(event):
                self._fetches[key] = (self._clock(), fetch)
                if len(self._fetches) > _KEPT_MESSAGES:
                    self._fetches.popitem(last=False)
        else:  # the second copy: Slack sends no third (a retry after a failure fetches again)
            fetch = kept[1]
        return await asyncio.shield(fetch)  # a copy whose request is dropped leaves the fetch to the other

    @staticmethod
    def _comes_twice(event: MessageEvent) -> bool:
        """A mention (of the bot, or of someone: the bot's id is not known here) comes as two events."""
        return event.get("type") == "app_mention" or "<@" in (event.get("text") or "")

    def _forget_old(self) -> None:
        oldest = self._clock() - self._keep
        while self._fetches and next(iter(self._fetches.values()))[0] < oldest:
            self._fetches.popitem(last=False)

    async def _fetch(self, shared: list[SharedFile], token: str | None) -> Fetched:
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
