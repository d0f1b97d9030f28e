"""One thread's work, wherever it runs: its events in order, its conversation's steps between them.

Both queues run a thread's work through :func:`work_thread`; they differ only in where the
items come from (an in-memory queue, or the thread's events in the inbox) and in what they do
with what is left when the work fails or stops.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from adapters import AdapterError, ThreadRef

from ..logs import bind_thread
from ..session import ThreadSession
from . import Accepted

if TYPE_CHECKING:
    from ..dispatcher import Dispatcher
    from ..runtime import Runtime

__all__ = ["RESUME", "RETRYING", "WORKING", "Take", "work_thread"]

_log = logging.getLogger(__name__)

RESUME = object()  # an item that opens the conversation from storage without an event (after a restart)
WORKING = "is working…"
RETRYING = "retrying"  # a conversation's status while a failed post waits to be tried again

Take = Callable[[], Awaitable[object | None]]
"""The thread's next item (an :class:`Accepted` event, or :data:`RESUME`), None when there is none."""


async def work_thread(
    dispatcher: Dispatcher,
    thread: ThreadRef,
    take: Take,
    stopping: Callable[[], bool],
    ended: Callable[[], None] = lambda: None,
) -> bool:
    """Work through ``thread``'s items, running its conversation between them, until it is idle.

    It is idle when nothing is left to take and the run cannot go on by itself (it waits for
    people, is finished, or there is none), or, once ``stopping()``, when nothing is left to
    take; then ``ended()`` is called at once (before anything else is awaited). A failure is
    logged, the conversation marked as retrying, and the dispatcher tries the thread again
    later; nothing stored is lost.

    Returns:
        whether the run could still go on when the work stopped (a successor should go on with it).
    """
    status = _Status(dispatcher, thread)
    session: ThreadSession | None = None
    failure: Exception | None = None
    rt = dispatcher.rt
    answering = False  # people spoke since the last step: they wait for the next one's post
    bind_thread(thread.key)
    try:
        while (item := await _after_arrivals(rt, take)) is not None or (
            not stopping() and session is not None and session.can_advance()
        ):
            if item is None:
                assert session is not None
                await status.show(working=True)
                async with rt.steps.slot(first=answering):
                    await session.advance()
                answering = False
                continue
            answering = answering or isinstance(item, Accepted)
            event = item.event if isinstance(item, Accepted) else None
            if session is None:
                create = event is not None and dispatcher.starts_conversation(event)
                session = await ThreadSession.open(rt, thread, create=create)
                bind_thread(thread.key, session.record.id if session is not None else None)
                if session is not None and session.record.last_seq:
                    # What a crash or a failed post left unposted goes first (if it did not go out).
                    await session.flush(check_posted=True)
                    if session.record.status == RETRYING:
                        await rt.db.stores.conversations.set_status(session.record.id, session.status)
            # The session takes an event out of the inbox with the state it leads to; an event
            # that changed nothing is taken out here.
            if isinstance(item, Accepted) and (session is None or not await session.handle(item.event, item.inbox_id)):
                await rt.db.stores.events.handled([item.inbox_id])
    except Exception as exc:
        failure = exc
    else:
        await dispatcher.succeeded(session.record if session is not None else None)
    finally:
        ended()
        await status.show(working=False)
        unfinished = failure is None and session is not None and session.can_advance()
        if session is not None:
            await session.close()
        if failure is not None:
            await _failed(dispatcher, thread, failure, session)
    return unfinished


async def _after_arrivals(rt: Runtime, take: Take) -> object | None:
    """The thread's next item, once the events being taken in are answered (a platform waits for
    that answer; the work of a burst's earlier events would otherwise keep the later ones waiting)."""
    await rt.arrivals.settled()
    return await take()


async def _failed(dispatcher: Dispatcher, thread: ThreadRef, failure: Exception, session: ThreadSession | None) -> None:
    """Nothing is lost: what is stored stays stored, and the thread is tried again later (or, after
    too many failures in a row, its run stops; what is stored goes out when the sweep finds it can)."""
    delay = await dispatcher.failed(thread, session.record.id if session is not None else None)
    then = f"trying again in {delay:g} s" if delay is not None else "it failed too often in a row: its run stops"
    if isinstance(failure, AdapterError):
        dispatcher.rt.metrics.platform_error(thread.platform)
        _log.warning("thread %s: %s; %s", thread.key, failure, then)
    else:
        _log.error("thread %s failed; %s", thread.key, then, exc_info=failure)
    if session is not None and delay is not None:
        try:
            await dispatcher.rt.db.stores.conversations.set_status(session.record.id, RETRYING)
        except Exception as exc:
            _log.info("could not mark thread %s as retrying: %s", thread.key, exc)


class _Status:
    """The platform's "working" status for the thread, while steps run (never fatal)."""

    def __init__(self, dispatcher: Dispatcher, thread: ThreadRef) -> None:
        self.rt = dispatcher.rt
        self.thread = thread
        self.working = False

    async def show(self, *, working: bool) -> None:
        if working == self.working:
            return
        platform = self.rt.platform_for(self.thread)
        if not platform.capabilities.typing:
            return
        self.working = working
        try:
            await platform.set_status(self.thread, WORKING if working else None)
        except Exception as exc:
            _log.info("could not show the status of %s: %s", self.thread.key, exc)
