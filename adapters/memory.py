"""An in-memory chat platform: for tests, benchmarks and programs that embed threadcrew.

Events are put in with :meth:`InMemoryPlatform.deliver` (or the ``mention`` / ``say`` /
``press`` / ``command`` helpers); what the bot posts is kept in :attr:`InMemoryPlatform.posts`,
and :meth:`InMemoryPlatform.wait_for` waits until a condition on the posts holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from aiohttp import web

from .thread import (
    Author,
    Capabilities,
    ChannelAccess,
    EventHandler,
    MessageStream,
    OutboundMessage,
    Persona,
    ThreadEvent,
    ThreadRef,
)

__all__ = ["InMemoryPlatform", "Posted"]


@dataclass(frozen=True, slots=True)
class Posted:
    """A message the bot posted (updates replace ``message``)."""

    id: str
    thread: ThreadRef
    message: OutboundMessage
    at: float

    @property
    def text(self) -> str:
        return self.message.text

    @property
    def author(self) -> str:
        return self.message.persona.name


class InMemoryPlatform:
    """A platform whose threads live in this object."""

    def __init__(
        self,
        workspace_id: str = "W1",
        channel_id: str = "C1",
        *,
        name: str = "memory",
        capabilities: Capabilities | None = None,
    ) -> None:
        """``name``: the platform's name in the runtime (two in-memory platforms need two names);
        ``capabilities``: what it claims to do (by default everything, with no length limit)."""
        self.name = name
        self.capabilities = capabilities or Capabilities(
            personas=True, buttons=True, edits=True, ephemeral=True, streaming=True, uploads=True, typing=True
        )
        self.workspace_id = workspace_id
        self.channel_id = channel_id
        self.posts: list[Posted] = []
        self.statuses: list[tuple[str, str | None]] = []  # (thread id, status) as the bot set them
        self.streams: list[_Stream] = []  # every stream the bot started
        self._queue: asyncio.Queue[tuple[ThreadEvent, asyncio.Future[None]] | None] = asyncio.Queue()
        self._changed = asyncio.Condition()
        self._watching: set[asyncio.Event] = set()  # see watch()
        self._ids = itertools.count(1)
        self._events = itertools.count(1)
        self._token = uuid.uuid4().hex[:6]  # event keys and message ids stay unique across instances
        self._running = False
        self.connection_lost = False  # set it to show the platform as disconnected
        self.absent_from: set[str] = set()  # channels the bot is not in (``can_post_in`` says no)

    # -- the ChatPlatform protocol ----------------------------------------------------------------

    async def run(self, on_event: EventHandler) -> None:
        """Deliver events until :meth:`close`; a closed platform can run again (a restarted bot)."""
        self._running = True
        try:
            while (item := await self._queue.get()) is not None:
                event, handled = item
                try:
                    await on_event(event)
                except Exception as exc:
                    handled.set_exception(exc)
                else:
                    handled.set_result(None)
        finally:
            self._running = False

    @property
    def connected(self) -> bool:
        return not self.connection_lost

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return ()

    async def open_thread(self, workspace_id: str, channel_id: str, message: OutboundMessage) -> ThreadRef:
        """A new thread in ``channel_id``, started by ``message`` (its id is the thread's, as on Slack)."""
        message_id = f"m{next(self._ids)}"
        thread = ThreadRef(self.name, workspace_id, channel_id, message_id)
        await self._add(Posted(message_id, thread, message, time.monotonic()))
        return thread

    async def can_post_in(self, workspace_id: str, channel_id: str) -> ChannelAccess:
        if channel_id in self.absent_from:
            return ChannelAccess(False, f"I am not in channel {channel_id}: add me to it, then try again")
        return ChannelAccess(True)

    async def post(self, thread: ThreadRef, message: OutboundMessage) -> str:
        posted = Posted(f"m{next(self._ids)}", thread, message, time.monotonic())
        await self._add(posted)
        return posted.id

    async def _add(self, posted: Posted) -> None:
        async with self._changed:
            self.posts.append(posted)
            self._notify()

    async def update(self, thread: ThreadRef, message_id: str, message: OutboundMessage) -> None:
        async with self._changed:
            for i, posted in enumerate(self.posts):
                if posted.id == message_id:
                    self.posts[i] = Posted(posted.id, thread, message, posted.at)
            self._notify()

    async def find_posted(self, thread: ThreadRef, key: str) -> str | None:
        for posted in self.posts:
            if key and posted.thread == thread and posted.message.key == key:
                return posted.id
        return None

    async def set_status(self, thread: ThreadRef, status: str | None) -> None:
        async with self._changed:
            self.statuses.append((thread.thread_id, status))
            self._notify()

    async def start_stream(
        self, thread: ThreadRef, persona: Persona, *, reader: str | None = None
    ) -> MessageStream | None:
        return _Stream(self, thread, persona)

    async def _preview(self, thread: ThreadRef, message_id: str | None, message: OutboundMessage) -> str:
        """Show a stream's text so far: a new post (``message_id`` None), else that post updated."""
        if message_id is None:
            return await self.post(thread, message)
        await self.update(thread, message_id, message)
        return message_id

    async def _remove(self, message_id: str) -> None:
        async with self._changed:
            self.posts = [p for p in self.posts if p.id != message_id]
            self._notify()

    def _notify(self) -> None:
        self._changed.notify_all()
        for flag in self._watching:
            flag.set()

    @contextlib.contextmanager
    def watch(self) -> Iterator[asyncio.Event]:
        """A flag set whenever a post or a thread's status changes, while the ``with`` lasts (a live
        page waits on it). Clear it before reading the posts: a change during the read sets it again."""
        flag = asyncio.Event()
        self._watching.add(flag)
        try:
            yield flag
        finally:
            self._watching.discard(flag)

    async def close(self) -> None:
        if self._running:
            await self._queue.put(None)

    # -- driving it ------------------------------------------------------------------------------------

    def thread(self, thread_id: str) -> ThreadRef:
        return ThreadRef(self.name, self.workspace_id, self.channel_id, thread_id)

    async def deliver(self, event: ThreadEvent) -> None:
        """Hand ``event`` to the bot; returns once its callback has taken it (as a webhook's ack)."""
        handled = asyncio.get_running_loop().create_future()
        await self._queue.put((event, handled))
        await handled

    def _event(self, kind: str, thread: str, who: str, **fields: object) -> ThreadEvent:
        return ThreadEvent(
            kind=kind,  # type: ignore[arg-type]
            thread=self.thread(thread),
            author=Author(who, who),
            event_key=str(fields.pop("event_key", f"{self._token}.ev{next(self._events)}")),
            **fields,  # type: ignore[arg-type]
        )

    async def mention(self, thread: str, text: str, who: str = "alice", **fields: object) -> ThreadEvent:
        fields.setdefault("message_id", f"{self._token}.h{next(self._ids)}")
        event = self._event("mention", thread, who, text=text, **fields)
        await self.deliver(event)
        return event

    async def say(self, thread: str, text: str, who: str = "alice", **fields: object) -> ThreadEvent:
        fields.setdefault("message_id", f"{self._token}.h{next(self._ids)}")
        event = self._event("message", thread, who, text=text, **fields)
        await self.deliver(event)
        return event

    async def press(self, thread: str, action_id: str, value: str, who: str = "alice", ref: str = "") -> ThreadEvent:
        event = self._event("button", thread, who, action_id=action_id, value=value, ref_message_id=ref)
        await self.deliver(event)
        return event

    async def command(self, thread: str, command: str, who: str = "alice") -> ThreadEvent:
        event = self._event("command", thread, who, command=command)
        await self.deliver(event)
        return event

    def in_thread(self, thread: str) -> list[Posted]:
        return [p for p in self.posts if p.thread.thread_id == thread]

    async def wait_for(self, condition: Callable[[list[Posted]], bool], within: float = 30) -> list[Posted]:
        """Wait until ``condition(posts)`` holds; returns the posts then.

        Raises:
            TimeoutError: it did not hold within ``within`` seconds.
        """
        try:
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(lambda: condition(self.posts))
                return list(self.posts)
        except TimeoutError:
            shown = "\n".join(f"  {p.thread.thread_id} {p.author}: {p.text[:120]!r}" for p in self.posts[-12:])
            raise TimeoutError(f"the condition did not hold within {within} s; the last posts:\n{shown}") from None


class _Stream:
    """A streamed message: posted with the first text, updated as more comes, kept in ``streams``."""

    def __init__(self, platform: InMemoryPlatform, thread: ThreadRef, persona: Persona) -> None:
        self.platform = platform
        self.thread = thread
        self.persona = persona
        self.text = ""
        self.id: str | None = None
        platform.streams.append(self)

    async def append(self, text: str) -> None:
        self.text += text
        self.id = await self.platform._preview(self.thread, self.id, OutboundMessage(self.persona, self.text))

    async def finish(self, message: OutboundMessage) -> str:
        if self.id is None:
            self.id = await self.platform.post(self.thread, message)
        else:
            await self.platform.update(self.thread, self.id, message)
        return self.id

    async def abandon(self) -> None:
        if self.id is not None:
            await self.platform._remove(self.id)
