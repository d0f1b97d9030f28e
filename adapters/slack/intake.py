"""Slack's events (HTTP mode and Socket Mode): kept first, answered at once, handed to Bolt after.

Slack waits at most 3 s for its answer to an event, then counts a failure and sends the event
again (three times, then never). Everything Bolt does for an event (authorize, look the author
up with ``users.info``, fetch the images people attached, hand the event to the bot) can take
longer than that under a burst, or while Slack's own API is slow to answer. So an event is first
kept as Slack sent it (committed in the bot's inbox), Slack gets its 200, and Bolt takes it from
there. An event that was kept and not handed over (the process died, the bot could not store it
just then) is handed over again: at the next start, and by the next look for stale ones (every
minute), in this process or in any other that takes Slack's events.

In Socket Mode the answer is the envelope's ack on the WebSocket (:class:`KeptFirstSocketMode`),
and an envelope not acked is sent again by Slack, as an HTTP request not answered 200 is.

Buttons and slash commands are not kept this way: their answer says something (Bolt answers them
within 3 s after the bot has kept what they mean).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, Protocol

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from ..arrivals import Arrivals
from .requests import unreadable

__all__ = ["MAX_RETRY_SECONDS", "RETRY_SECONDS", "EventIntake", "KeptFirstSocketMode", "RequestInbox"]

_log = logging.getLogger(__name__)

RETRY_SECONDS = 60.0  # a kept event not handed over after this long is handed over again
MAX_RETRY_SECONDS = 3600.0  # a kept event that keeps failing waits twice as long each time, up to this
_KEPT_HEADERS = ("content-type", "x-slack-retry-num", "x-slack-retry-reason")  # what Bolt reads of them


class RequestInbox(Protocol):
    """Where the platform keeps what it answered and has not handed over yet (the bot's inbox)."""

    async def keep(self, key: str, payload: Any) -> int | None:
        """Keep ``payload`` (committed) under ``key``; its id, or None when ``key`` was kept before."""
        ...

    async def pending(self) -> list[tuple[int, Any]]:
        """What is kept and not done, oldest first: (id, payload)."""
        ...

    async def done(self, kept_id: int) -> None:
        """Forget a kept payload: it was handed over."""
        ...


Dispatch = Callable[[AsyncBoltRequest], Awaitable[BoltResponse]]


class EventIntake:
    """Slack's event callbacks: kept before their answer, then dispatched to Bolt, in order per thread.

    Args:
        inbox: where they are kept.
        dispatch: Bolt's dispatch; a 5xx answer means the bot could not take the event (kept, tried
            again later), any other that it is done with it.
        clock: the current Unix time (injected, for tests).
        retry_after: how old a kept event must be before :meth:`retry_stale` hands it over again;
            after each failed hand-over in a row it waits twice as long (at most ``MAX_RETRY_SECONDS``).
        turn: waited for before each hand-over (the platform's requests being answered go first).
    """

    def __init__(
        self,
        inbox: RequestInbox,
        dispatch: Dispatch,
        *,
        clock: Callable[[], float] = time.time,
        retry_after: float = RETRY_SECONDS,
        turn: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.inbox = inbox
        self._dispatch = dispatch
        self.clock = clock
        self.retry_after = retry_after
        self._turn = turn
        self._handing: dict[int, asyncio.Task[None]] = {}  # kept id -> its hand-over
        self._last_in_thread: dict[str, asyncio.Task[None]] = {}  # a thread's latest hand-over
        self._failing: dict[int, tuple[int, float]] = {}  # kept id -> (hand-overs failed in a row, next try)

    @property
    def handing(self) -> int:
        """Kept events being handed over now."""
        return len(self._handing)

    async def idle(self) -> None:
        """Until no hand-over is under way."""
        while self._handing:
            await asyncio.wait(list(self._handing.values()))

    async def take(
        self,
        body: str,
        headers: Mapping[str, str],
        callback: Mapping[str, Any],
        *,
        mode: Literal["http", "socket_mode"] = "http",
    ) -> None:
        """Keep an event callback (``body`` as Slack sent it, ``callback`` parsed; ``mode``: how it
        came), then hand it over in the background. Returns once it is kept, or found kept before
        (Slack retrying).

        Raises:
            Exception: whatever the inbox raised (nothing is kept: Slack must be told to retry).
        """
        payload = {
            "body": body,
            "headers": {name: headers[name] for name in _KEPT_HEADERS if name in headers},
            "thread": _thread_of(callback),
            "at": self.clock(),
            "mode": mode,
        }
        kept_id = await self.inbox.keep(_key(callback, body), payload)
        if kept_id is not None:
            self._hand_over(kept_id, payload)

    def _hand_over(self, kept_id: int, payload: dict[str, Any]) -> None:
        """Dispatch ``payload`` after the earlier events of its thread (Slack's order, kept order)."""
        if kept_id in self._handing:
            return
        thread = str(payload.get("thread", ""))
        earlier = self._last_in_thread.get(thread)
        task = asyncio.create_task(self._dispatch_kept(kept_id, payload, earlier))
        self._handing[kept_id] = self._last_in_thread[thread] = task

        def finished(_: asyncio.Task[None]) -> None:
            self._handing.pop(kept_id, None)
            if self._last_in_thread.get(thread) is task:
                del self._last_in_thread[thread]

        task.add_done_callback(finished)

    async def _dispatch_kept(self, kept_id: int, payload: dict[str, Any], earlier: asyncio.Task[None] | None) -> None:
        if earlier is not None:
            await asyncio.wait([earlier])
        if self._turn is not None:
            await self._turn()
        request = _bolt_request(payload)
        try:
            response = await self._dispatch(request)
        except Exception as exc:  # Bolt answers its listeners' errors; this is Bolt's own
            self._failed(kept_id, f"failed in Bolt ({exc!r})")
            return
        if response.status >= 500:
            self._failed(kept_id, f"could not be taken by the bot ({response.status})")
            return
        self._failing.pop(kept_id, None)
        try:
            await self.inbox.done(kept_id)
        except Exception as exc:  # handed over: a second hand-over is dropped as a duplicate
            _log.warning("could not mark a kept Slack event done (%r)", exc)

    def _failed(self, kept_id: int, why: str) -> None:
        """Count a failed hand-over; the next waits ``retry_after``, twice that after two in a row..."""
        in_a_row = self._failing.get(kept_id, (0, 0.0))[0] + 1
        wait = min(self.retry_after * 2 ** (in_a_row - 1), MAX_RETRY_SECONDS)
        self._failing[kept_id] = (in_a_row, self.clock() + wait)
        _log.warning("a kept Slack event %s, %d time(s) in a row; it is tried again in %g s", why, in_a_row, wait)

    async def retry_stale(self, *, everything: bool = False) -> int:
        """Hand over again the kept events older than ``retry_after``, or whose wait after failing is
        over (``everything``: all of them, at a start), that nobody here is handing over; returns how many."""
        now, found, pending = self.clock(), 0, await self.inbox.pending()
        kept_ids = {kept_id for kept_id, _ in pending}  # a process elsewhere may have handed some over
        self._failing = {kept_id: failing for kept_id, failing in self._failing.items() if kept_id in kept_ids}
        for kept_id, payload in pending:
            due = self._failing[kept_id][1] if kept_id in self._failing else payload.get("at", 0) + self.retry_after
            if kept_id in self._handing or not (everything or now >= due):
                continue
            self._hand_over(kept_id, payload)
            found += 1
        return found

    async def retrying(self) -> None:
        """Look for stale kept events every ``retry_after`` seconds, until cancelled."""
        while True:
            await asyncio.sleep(self.retry_after)
            try:
                if found := await self.retry_stale():
                    _log.info("handing over %d kept Slack event(s) again", found)
            except Exception as exc:
                _log.warning("could not look for kept Slack events (%r); looking again in %g s", exc, self.retry_after)

    async def settle(self, within: float) -> None:
        """Until every hand-over under way has ended (at most ``within`` seconds; the rest are
        cancelled: they stay kept, for the next start)."""
        pending = list(self._handing.values())
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=within)
        for task in late:
            task.cancel()
        if late:
            _log.warning("closing with %d kept Slack event(s) not handed over; the next start does", len(late))
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait(late)


class KeptFirstSocketMode(AsyncSocketModeHandler):
    """Bolt's Socket Mode handler, except that an event callback is kept, acked, then handed over
    by ``intake`` (an envelope that cannot be kept is not acked: Slack sends it again).

    Args:
        app, app_token: as Bolt's handler takes them.
        intake: where event callbacks go.
        arrivals: counts the envelopes being kept (the hand-overs wait for them).
    """

    def __init__(self, app: AsyncApp, app_token: str, intake: EventIntake, arrivals: Arrivals) -> None:
        super().__init__(app, app_token)
        self.intake = intake
        self.arrivals = arrivals

    # Bolt's own handler narrows the client's type the same way (and says so to mypy).
    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        callback = req.payload
        if req.type != "events_api" or not isinstance(callback, dict) or callback.get("type") != "event_callback":
            await super().handle(client, req)  # buttons, commands: Bolt answers them once kept
            return
        with self.arrivals.arriving():
            refusal = unreadable(callback)
            if refusal is not None:  # Slack's own socket: not worth its resends, nor a place in the inbox
                _log.warning("refused a Slack event from the socket: %s", refusal.reason)
                await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
                return
            headers = {name: str(value) for name, value in (build_headers(req) or {}).items()}
            try:
                await self.intake.take(json.dumps(callback), headers, callback, mode="socket_mode")
            except Exception as exc:
                _log.warning("could not keep a Slack event (%r); Slack sends it again", exc)
                return
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))


def _bolt_request(kept: Mapping[str, Any]) -> AsyncBoltRequest:
    """The Bolt request for a kept event, as Bolt would have made it when it came."""
    headers = dict(kept["headers"])
    if kept.get("mode") == "socket_mode":
        return AsyncBoltRequest(body=json.loads(kept["body"]), headers=headers, mode="socket_mode")
    return AsyncBoltRequest(body=kept["body"], headers=headers)


def _key(callback: Mapping[str, Any], body: str) -> str:
    """The event's own id (Slack's retries of it carry the same one), else its body's digest."""
    event_id = callback.get("event_id")
    return str(event_id) if event_id else hashlib.sha256(body.encode()).hexdigest()


def _thread_of(callback: Mapping[str, Any]) -> str:
    """The Slack thread an event callback belongs to (its channel and thread), for ordering."""
    event = callback.get("event")
    if not isinstance(event, dict):
        return ""
    return f"{event.get('channel')}:{event.get('thread_ts') or event.get('ts')}"
