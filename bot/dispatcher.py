"""The dispatcher: platform events in, one worker task per thread, each doing one thing at a time.

It drops what was delivered before (a retried event; one message delivered as a mention and as a
message), and hands each thread's events to that thread's worker in order. A worker runs its
conversation's steps between events, so a stop or a reply is seen at the next step.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import logging
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from adapters import AdapterError, Author, OutboundMessage, ThreadEvent, ThreadRef, defuse_mass_mentions

from .commands import run_channel_command
from .logs import bind_thread
from .runtime import Runtime
from .scheduling.manage import schedule_words
from .session import NOTE_PERSONA, TIMEOUT_AUTHOR, ThreadSession, thread_of
from .team_config import TriggerSpec

__all__ = ["Dispatcher"]

_log = logging.getLogger(__name__)

_RESUME = object()  # pick a conversation up after a restart
WORKING = "is working…"
RETRYING = "retrying"  # a conversation's status while a failed post waits to be tried again


@dataclass(frozen=True, slots=True)
class _Accepted:
    """An event, and its place in the inbox until it is handled."""

    event: ThreadEvent
    inbox_id: int


class Dispatcher:
    """Routes events to threads' workers; keeps failed threads going (retries, a periodic sweep).

    Args:
        runtime: what the sessions share.
        retry_base, retry_max: a thread whose work failed (a post the platform refused, say) is
            tried again after ``retry_base`` seconds, doubling each time up to ``retry_max``.
        sweep_every: how often to look for threads with stored-unposted messages or stranded
            events that no worker has (seconds; 0: never, :meth:`sweep` by hand).
    """

    def __init__(
        self, runtime: Runtime, *, retry_base: float = 1.0, retry_max: float = 300.0, sweep_every: float = 60.0
    ) -> None:
        self.rt = runtime
        self.retry_base, self.retry_max, self.sweep_every = retry_base, retry_max, sweep_every
        self._retries: dict[str, int] = {}  # thread key -> failures in a row
        self._timers: set[asyncio.Task[None]] = set()
        self._workers: dict[str, _ThreadWorker] = {}
        self._opened = False  # until open(), accepted events wait in the inbox
        self._closing = False
        self._queued_early: set[int] | None = None  # while open() looks for pending events: those queued meanwhile

    async def handle(self, event: ThreadEvent) -> None:
        """The platform's event callback: dedupe, then queue for the thread's worker."""
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
        (a duplicate). Kept until handled: a crash before then leaves it for the next start."""
        inbox_id = await self.rt.db.stores.events.accept(event.thread.platform, keys, event.to_json())
        if inbox_id is not None and self._opened and not self._closing:  # else open() or the next start has it
            if self._queued_early is not None:
                self._queued_early.add(inbox_id)
            self._worker(event.thread).put(_Accepted(event, inbox_id))
        return inbox_id is not None

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
        while (worker := self._workers.get(thread.key)) is not None:
            await asyncio.gather(worker.task, return_exceptions=True)

    def _worker(self, thread: ThreadRef) -> _ThreadWorker:
        worker = self._workers.get(thread.key)
        if worker is None or worker.closed:
            worker = self._workers[thread.key] = _ThreadWorker(self, thread)
            worker.task.add_done_callback(lambda _: self._forget(thread.key, worker))
        return worker

    def _forget(self, key: str, worker: _ThreadWorker) -> None:
        if self._workers.get(key) is worker:
            del self._workers[key]

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
        pending = {m.conversation_id for m in await stores.messages.outbox(limit=10_000)}
        running = {c.id for c in await stores.conversations.list_active() if c.status == "running"}
        for conversation_id in sorted(pending | running):
            thread = thread_of(await stores.conversations.get(conversation_id))
            if thread.platform in self.rt.served:
                self._worker(thread).put(_RESUME)
        for platform in sorted(self.rt.served):
            for inbox_id, payload in await stores.events.pending(platform):
                if inbox_id in self._queued_early:  # it came while we looked: queued already
                    continue
                event = ThreadEvent.from_json(payload)
                self._worker(event.thread).put(_Accepted(event, inbox_id))
        self._queued_early = None

    # -- keeping threads going -------------------------------------------------------------------------

    def _keep(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    def failed(self, thread: ThreadRef) -> float:
        """A thread's work failed: try it again later (backing off); returns the delay in seconds."""
        attempt = self._retries[thread.key] = self._retries.get(thread.key, 0) + 1
        delay: float = min(self.retry_base * 2.0 ** (attempt - 1), self.retry_max)
        if not self._closing:
            self._keep(self._retry(thread, delay))
        return delay

    def succeeded(self, thread: ThreadRef) -> None:
        self._retries.pop(thread.key, None)

    async def _retry(self, thread: ThreadRef, delay: float) -> None:
        await asyncio.sleep(delay)
        if not self._closing:
            await self._requeue(thread)

    async def _requeue(self, thread: ThreadRef) -> None:
        """Give a thread with no worker its stranded events and its stored work again."""
        pending = [
            _Accepted(event, inbox_id)
            for inbox_id, payload in await self.rt.db.stores.events.pending(thread.platform)
            if (event := ThreadEvent.from_json(payload)).thread == thread
        ]
        worker = self._workers.get(thread.key)
        if worker is not None and not worker.closed:
            worker.put(_RESUME)  # it is at work: its queue holds its events
            return
        worker = self._worker(thread)  # no await from here: a worker with nothing to do ends at once
        for accepted in pending:
            worker.put(accepted)
        worker.put(_RESUME)

    async def sweep(self) -> int:
        """Pick up threads that have stored-unposted messages or events no worker holds; returns how many."""
        stores = self.rt.db.stores
        threads = {}
        for conversation_id in {m.conversation_id for m in await stores.messages.outbox(limit=10_000)}:
            thread = thread_of(await stores.conversations.get(conversation_id))  # once per conversation
            threads[thread.key] = thread
        for platform in sorted(self.rt.served):
            for _, payload in await stores.events.pending(platform):
                event = ThreadEvent.from_json(payload)
                threads[event.thread.key] = event.thread
        stranded = [t for key, t in threads.items() if t.platform in self.rt.served and key not in self._workers]
        for thread in stranded:
            await self._requeue(thread)
        return len(stranded)

    async def _sweeping(self) -> None:
        while not self._closing:
            await asyncio.sleep(self.sweep_every)
            try:
                if found := await self.sweep():
                    _log.info("the sweep picked up %d thread(s) with work left", found)
            except Exception as exc:
                _log.warning("the sweep failed (%s); it tries again in %g s", exc, self.sweep_every)

    def queued(self) -> int:
        """Events and resumes waiting in threads' workers (not counting what each is doing now)."""
        return sum(len(w.queue) for w in self._workers.values())

    async def wait_idle(self) -> None:
        """Until no thread has work left (every run finished, or waiting for people)."""
        while self._workers:
            await asyncio.gather(*(w.task for w in list(self._workers.values())), return_exceptions=True)

    def stop(self) -> None:
        """Take no more work, at once: new events wait in the inbox, no worker starts another step."""
        self._closing = True
        for timer in list(self._timers):
            timer.cancel()
        for worker in self._workers.values():
            worker.stopping = True

    async def drain(self, grace: float = 30.0) -> None:
        """Stop taking events; each worker finishes its step and its queued events (up to ``grace`` s).

        Runs stay stored as running; the next start goes on with them.
        """
        self.stop()
        workers = list(self._workers.values())
        if not workers:
            return
        _, running = await asyncio.wait([w.task for w in workers], timeout=grace)
        for task in running:
            task.cancel()
        for task in running:
            with contextlib.suppress(asyncio.CancelledError):
                await task


class _ThreadWorker:
    """Works through one thread's events, running its conversation between them; ends when idle.

    A worker ends as soon as it has nothing to do (the run waits for people, is finished, or
    there is none), so an idle thread holds no memory; its next event starts a new worker,
    which opens the conversation from storage.
    """

    def __init__(self, dispatcher: Dispatcher, thread: ThreadRef) -> None:
        self.dispatcher = dispatcher
        self.thread = thread
        self.queue: collections.deque[object] = collections.deque()
        self.closed = False  # set (synchronously) once the worker takes no more items
        self.stopping = dispatcher._closing  # one started during shutdown (a failed one's successor) only drains
        self.working = False
        self.task = asyncio.create_task(self._run(), name=f"thread {thread.key}")

    async def _show_working(self, working: bool) -> None:
        """The platform's "working" status for the thread, while steps run (never fatal)."""
        platform = self.dispatcher.rt.platform_for(self.thread)
        if working == self.working or not platform.capabilities.typing:
            return
        self.working = working
        try:
            await platform.set_status(self.thread, WORKING if working else None)
        except Exception as exc:
            _log.info("could not show the status of %s: %s", self.thread.key, exc)

    def put(self, item: object) -> None:
        assert not self.closed
        self.queue.append(item)

    async def _run(self) -> None:
        session: ThreadSession | None = None
        failure: Exception | None = None
        rt = self.dispatcher.rt
        bind_thread(self.thread.key)
        try:
            while True:
                if not self.queue:
                    if not self.stopping and session is not None and session.can_advance():
                        await self._show_working(True)
                        await session.advance()
                        continue
                    break
                item = self.queue.popleft()
                event = item.event if isinstance(item, _Accepted) else None
                if session is None:
                    create = event is not None and self.dispatcher.starts_conversation(event)
                    session = await ThreadSession.open(rt, self.thread, create=create)
                    bind_thread(self.thread.key, session.record.id if session is not None else None)
                    if session is not None and session.record.last_seq:
                        # What a crash or a failed post left unposted goes first (if it did not go out).
                        await session.flush(check_posted=True)
                        if session.record.status == RETRYING:
                            await rt.db.stores.conversations.set_status(session.record.id, session.status)
                # The session takes an event out of the inbox with the state it leads to; an
                # event that changed nothing is taken out here.
                if isinstance(item, _Accepted) and (
                    session is None or not await session.handle(item.event, item.inbox_id)
                ):
                    await rt.db.stores.events.handled([item.inbox_id])
        except Exception as exc:
            failure = exc
        else:
            self.dispatcher.succeeded(self.thread)
        finally:
            self.closed = True
            await self._show_working(False)
            if self.queue:  # events that came after the failure still count
                successor = self.dispatcher._worker(self.thread)
                successor.queue.extend(self.queue)
            if session is not None:
                await session.close()
            if failure is not None:
                await self._failed(failure, session)

    async def _failed(self, failure: Exception, session: ThreadSession | None) -> None:
        """Nothing is lost: what is stored stays stored, and the thread is tried again later."""
        delay = self.dispatcher.failed(self.thread)
        if isinstance(failure, AdapterError):
            self.dispatcher.rt.metrics.platform_error(self.thread.platform)
            _log.warning("thread %s: %s; trying again in %g s", self.thread.key, failure, delay)
        else:
            _log.error("thread %s failed; trying again in %g s", self.thread.key, delay, exc_info=failure)
        if session is not None:
            try:
                await self.dispatcher.rt.db.stores.conversations.set_status(session.record.id, RETRYING)
            except Exception as exc:
                _log.info("could not mark thread %s as retrying: %s", self.thread.key, exc)
