"""The dispatcher: platform events in, each thread's work to the work queue, one thing at a time per thread.

It drops what was delivered before (a retried event; one message delivered as a mention and as a
message), keeps each accepted event in the inbox, and tells the work queue (bot/workqueue) that the
thread has work; whoever works the thread runs its conversation's steps between its events, so a
stop or a reply is seen at the next step. The queue is in memory (one process, the default) or
PostgreSQL jobs that any worker process runs.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from adapters import Author, OutboundMessage, ThreadEvent, ThreadRef, defuse_mass_mentions
from storage import ConversationRecord

from .commands import run_channel_command
from .runtime import Runtime
from .scheduling.manage import schedule_words
from .session import NOTE_PERSONA, TIMEOUT_AUTHOR, ThreadSession
from .team_config import TriggerSpec
from .workqueue import Accepted, WorkQueue
from .workqueue.local import LocalQueue

__all__ = ["Dispatcher", "QueueFactory"]

_log = logging.getLogger(__name__)

QueueFactory = Callable[["Dispatcher"], WorkQueue]
"""Makes the dispatcher's work queue (the in-memory one by default)."""


class Dispatcher:
    """Routes events to the work queue; keeps failed threads going (retries, a periodic sweep).

    Args:
        runtime: what the sessions share.
        queue: makes the work queue (default: :class:`~bot.workqueue.local.LocalQueue`, in memory).
        retry_base, retry_max: a thread whose work failed (a post the platform refused, say) is
            tried again after ``retry_base`` seconds, doubling with each failure in a row (counted on
            its conversation, so every worker backs off alike) up to ``retry_max``.
        give_up_after: after this many failures in a row the run stops, with a note in the thread
            (what is stored still goes out when the platform takes it: the sweep tries again).
        sweep_every: how often to look for threads with work that no worker has (stored-unposted
            messages, a running conversation, stranded events; seconds; 0: never, :meth:`sweep` by hand).
    """

    def __init__(
        self,
        runtime: Runtime,
        *,
        queue: QueueFactory = LocalQueue,
        retry_base: float = 1.0,
        retry_max: float = 300.0,
        give_up_after: int = 12,
        sweep_every: float = 60.0,
    ) -> None:
        self.rt = runtime
        self.queue = queue(self)
        self.retry_base, self.retry_max, self.sweep_every = retry_base, retry_max, sweep_every
        self.give_up_after = give_up_after
        self._timers: set[asyncio.Task[None]] = set()
        self._opened = False  # until open(), accepted events wait in the inbox
        self._closing = False
        self._queued_early: set[int] | None = None  # while open() looks for pending events: those queued meanwhile
        # Events between the inbox and the queue (by event key): their taker queues them; see _take.
        self._taking: collections.Counter[str] = collections.Counter()

    async def handle(self, event: ThreadEvent) -> None:
        """The platform's event callback: dedupe, then queue for the thread's worker."""
        with self.rt.arrivals.arriving():
            await self._handle(event)

    async def _handle(self, event: ThreadEvent) -> None:
        if event.author.is_bot:
            return
        said_to_bot = schedule_words(event.text) if event.kind == "mention" else None
        if said_to_bot is not None:  # "@threadcrew schedule add ...": the channel command, said in a thread
            event = dataclasses.replace(event, kind="command", command="schedule", text=said_to_bot)
        # For the channel: a command typed outside a thread, and schedules wherever they are typed.
        if event.kind == "command" and (not event.thread.thread_id or event.command in ("schedule", "schedules")):
            if await self.rt.db.stores.events.claim(event.thread.platform, f"event:{event.event_key}"):
                await run_channel_command(self, event)
            return
        triggered = event.kind == "message" and self._triggered(event)
        if event.kind == "message" and event.message_id == event.thread.thread_id and not triggered:
            return  # a new message in the channel, not for the bot: nothing to keep
        keys = [f"event:{event.event_key}"]
        if event.message_id and event.kind in ("mention", "message"):
            # The same message may arrive twice, as a mention and as a message, with different keys;
            # adapters report a message that mentions the bot as a mention, so either copy will do.
            keys.append(f"message:{event.thread.channel_id}:{event.message_id}")
        if triggered:
            event = dataclasses.replace(event, kind="mention")  # a trigger word counts as a mention
        await self._take(event, keys)

    async def _take(self, event: ThreadEvent, keys: list[str]) -> bool:
        """Keep ``event`` in the inbox under ``keys`` and queue it; False if a key was taken before
        (a duplicate). Kept until handled: a crash before then leaves it for the next start.

        From the moment the inbox holds it until it is queued, the sweep (and open()) may find it
        pending with no worker on its thread: they leave it to this call (see :meth:`_unclaimed`),
        or it would be queued twice and handled twice (a mention twice in its transcript).
        """
        self._taking[event.event_key] += 1
        try:
            inbox_id = await self.rt.db.stores.events.accept(
                event.thread.platform, keys, event.to_json(), thread=event.thread.key
            )
            if inbox_id is not None and self._opened and not self._closing:  # else open() or the next start has it
                if self._queued_early is not None:
                    self._queued_early.add(inbox_id)
                await self.queue.wake(event.thread, Accepted(event, inbox_id))
        finally:
            self._taking[event.event_key] -= 1
            if not self._taking[event.event_key]:
                del self._taking[event.event_key]
        return inbox_id is not None

    def _unclaimed(self, inbox_id: int, event: ThreadEvent) -> bool:
        """Whether the pending event ``inbox_id`` is for the caller to queue: not queued by its taker
        while open() looked (``_queued_early``), nor on its way there (``_taking``)."""
        queued_early = self._queued_early is not None and inbox_id in self._queued_early
        return not queued_early and event.event_key not in self._taking

    def _triggers(self, thread: ThreadRef) -> TriggerSpec:
        return self.rt.catalog.triggers(self.rt.catalog.team_for(thread))

    def _triggered(self, event: ThreadEvent) -> bool:
        text = event.text.lower()
        return any(k.lower() in text for k in self._triggers(event.thread).keywords)

    def starts_conversation(self, event: ThreadEvent) -> bool:
        """Whether ``event`` may start a conversation in a thread that has none."""
        return event.kind == "start" or (event.kind == "mention" and self._triggers(event.thread).mention)

    async def start_run(
        self,
        platform: str,
        workspace_id: str,
        channel_id: str,
        text: str,
        *,
        team: str | None = None,
        started_by: Author | None = None,
        thread_id: str | None = None,
        opening: str | None = None,
    ) -> ThreadRef:
        """Start a team's run without a platform event (a schedule, the command line, the console).

        In a new thread (the platform opens it with ``opening``, by default the task itself) or
        in ``thread_id``; the run then goes on as if ``started_by`` had mentioned the bot with
        ``text``. Returns the thread.

        Raises:
            UnknownPlatformError: this process does not serve ``platform``.
            TeamConfigError: no such team.
            PlatformError: the platform could not open the thread (the bot is not in the channel...).
        """
        name = self.rt.catalog.check(team)
        who = started_by or Author("threadcrew", "threadcrew")
        if thread_id is None:
            chat = self.rt.platform_for(ThreadRef(platform, workspace_id, channel_id, ""))
            first = OutboundMessage(NOTE_PERSONA, defuse_mass_mentions(opening or text))
            thread = await chat.open_thread(workspace_id, channel_id, first)
            thread_id = thread.thread_id
        else:
            thread = ThreadRef(platform, workspace_id, channel_id, thread_id)
        stores = self.rt.db.stores
        await stores.conversations.get_or_create(platform, thread.workspace_id, channel_id, thread_id, team=name)
        key = f"start:{uuid.uuid4().hex}"
        await self.handle(ThreadEvent("start", thread, who, key, text=text, message_id=thread_id))
        return thread

    async def expire_wait(self, thread: ThreadRef, wait_id: int, action: str, note: str = "") -> bool:
        """Act on the timeout of the wait ``wait_id`` of ``thread``: ``remind`` (post ``note`` only),
        or answer it with ``note``: ``continue`` (a question goes on without an answer), ``reject``
        (an approval is denied) or ``stop``.

        It is a button pressed by the timeout, keyed by the wait (a reminder and an answer apart), so
        across processes each is taken once: returns whether this call took it. The thread's session
        stores ``note`` as a message of the conversation, with the wait's answer, and the outbox
        posts it; if the wait was answered meanwhile, the session ignores both.
        """
        key = f"{'remind' if action == 'remind' else 'timeout'}:{wait_id}"
        event = ThreadEvent("button", thread, TIMEOUT_AUTHOR, key, text=note, action_id=action, value=str(wait_id))
        return await self._take(event, [f"event:{key}"])

    async def wait_idle_thread(self, thread: ThreadRef) -> None:
        """Until ``thread`` has no work left (its run finished, or waits for people)."""
        await self.queue.wait_idle(thread)

    async def open(self, *, recover: bool = True) -> None:
        """Start working: post what was stored but not posted, go on with running conversations,
        and handle the events accepted before (by an earlier process, or while this one started),
        on every platform this process serves.

        A conversation that waits for people needs nothing: its wait is stored, and the next
        reply or button in its thread opens it again. ``recover=False`` only takes new work
        (a ``threadcrew start`` beside a running bot leaves the bot's work to the bot).
        """
        self._opened, self._queued_early = True, set()
        if not recover:
            self._queued_early = None
            return
        if self.sweep_every > 0:
            self._keep(self._sweeping())
        stores = self.rt.db.stores
        for thread in (await self._stored_work()).values():
            await self.queue.wake(thread)
        for platform in sorted(self.rt.served):
            for inbox_id, payload in await stores.events.pending(platform):
                if self._unclaimed(inbox_id, event := ThreadEvent.from_json(payload)):
                    await self.queue.wake(event.thread, Accepted(event, inbox_id))
        self._queued_early = None

    # -- keeping threads going -------------------------------------------------------------------------

    def _keep(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    async def failed(self, thread: ThreadRef, conversation_id: int | None) -> float | None:
        """A thread's work failed: try it again later, backing off by the failures in a row of its
        conversation (``conversation_id``; None: it has none, the first delay).

        Returns:
            the delay in seconds, or None: it failed ``give_up_after`` times (or more) in a row, so its
            run stops (with a note, once, whichever worker counted the last failure) and is not retried.
        """
        stores = self.rt.db.stores
        attempt = await stores.conversations.count_failure(conversation_id) if conversation_id is not None else 1
        if attempt >= self.give_up_after:
            if attempt == self.give_up_after:  # the count is the row's: one worker sees this number
                await self._give_up(thread)
            return None
        delay: float = min(self.retry_base * 2.0 ** (attempt - 1), self.retry_max)
        await self.queue.retry_later(thread, delay)
        return delay

    async def _give_up(self, thread: ThreadRef) -> None:
        """Stop the thread's run with a note, from what is stored (the failed session may be ahead of it).

        A run that waits for people or is over is left as it is: only its retries end.
        """
        session = await ThreadSession.open(self.rt, thread, create=False)
        if session is None:
            return
        try:
            if not session.can_advance():
                return
            await session.give_up(self.give_up_after)
        except Exception as exc:  # stored, but not posted: the note goes out with the rest when it can
            _log.warning("thread %s: its run stopped, the note is not posted yet: %s", thread.key, exc)
        finally:
            await session.close()

    async def succeeded(self, conversation: ConversationRecord | None) -> None:
        """A thread's work went through: its next failure is counted from one."""
        if conversation is not None and conversation.failures:
            await self.rt.db.stores.conversations.clear_failures(conversation.id)

    async def requeue(self, thread: ThreadRef) -> None:
        """Give a thread with no worker its stranded events and its stored work again."""
        pending = [
            Accepted(event, inbox_id)
            for inbox_id, payload in await self.rt.db.stores.events.pending(thread.platform, thread=thread.key)
            if (event := ThreadEvent.from_json(payload)).thread == thread and self._unclaimed(inbox_id, event)
        ]
        await self.queue.resume(thread, pending)

    async def _stored_work(self) -> dict[str, ThreadRef]:
        """The threads (of the platforms served here) whose conversation has stored-unposted
        messages or is running (a step is due), by key."""
        threads = [ThreadRef(*where) for where in await self.rt.db.stores.conversations.threads_with_work()]
        return {thread.key: thread for thread in threads if thread.platform in self.rt.served}

    async def sweep(self) -> int:
        """Pick up threads with work that no worker holds: stored-unposted messages, a running
        conversation (its work failed outside the work loop, say), events in the inbox; returns how many.

        A thread whose work is queued or under way (here, or on PostgreSQL in any process) is left alone.
        """
        stores = self.rt.db.stores
        threads = await self._stored_work()
        for platform in sorted(self.rt.served):
            for inbox_id, payload in await stores.events.pending(platform):
                if self._unclaimed(inbox_id, event := ThreadEvent.from_json(payload)):
                    threads[event.thread.key] = event.thread
        working = await self.queue.working()
        stranded = [t for key, t in threads.items() if key not in working]
        for thread in stranded:
            await self.requeue(thread)
        return len(stranded)

    async def _sweeping(self) -> None:
        while not self._closing:
            await asyncio.sleep(self.sweep_every)
            try:
                if found := await self.sweep():
                    _log.info("the sweep picked up %d thread(s) with work left", found)
            except Exception as exc:
                _log.warning("the sweep failed (%s); it tries again in %g s", exc, self.sweep_every)

    async def queued(self) -> int:
        """Work waiting for a worker (not counting what is being done now)."""
        return await self.queue.depth()

    async def wait_idle(self) -> None:
        """Until no thread has work left here (every run finished, or waiting for people)."""
        await self.queue.wait_idle()

    @property
    def stopped(self) -> bool:
        """It takes no more work (see :meth:`stop`)."""
        return self._closing

    def stop(self) -> None:
        """Take no more work, at once: new events wait in the inbox, no worker starts another step."""
        self._closing = True
        for timer in list(self._timers):
            timer.cancel()
        self.queue.stop()

    async def drain(self, grace: float = 30.0) -> None:
        """Stop taking events; each worker finishes its step and its queued events (up to ``grace`` s).

        Runs stay stored as running; the next start goes on with them.
        """
        self.stop()
        await self.queue.drain(grace)
