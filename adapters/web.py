"""The web thread: a chat platform whose threads live in the bot process and are read and written
through a web page (the bot's web console serves it), to try a team without Slack or Discord.

People's messages are kept in the thread beside the bot's posts (as on a chat platform), so the
page shows the whole conversation. Threads last as long as the process; their conversations are
stored like any other platform's.
"""

from __future__ import annotations

import itertools
import time

from .memory import InMemoryPlatform, Posted
from .thread import Attachment, Author, Button, Capabilities, OutboundMessage, Persona, ThreadEvent, ThreadRef

__all__ = ["PERSON", "WebThreadPlatform"]

PERSON = "person"  # the persona name of people's messages in a web thread


class WebThreadPlatform(InMemoryPlatform):
    """Threads in this process, for a browser: people start them, write in them, press buttons."""

    def __init__(self) -> None:
        super().__init__(
            "web",
            "web",
            name="web",
            capabilities=Capabilities(
                personas=True, buttons=True, edits=True, streaming=True, uploads=True, typing=True
            ),
        )
        self._threads = itertools.count(1)
        self._keys = itertools.count(1)

    def threads(self) -> list[str]:
        """The threads' ids, oldest first."""
        return list(dict.fromkeys(p.thread.thread_id for p in self.posts))

    def working(self, thread_id: str) -> str | None:
        """What the bot shows it is doing in the thread (None: nothing)."""
        shown = [status for tid, status in self.statuses if tid == thread_id]
        return shown[-1] if shown else None

    async def start(self, author: Author, text: str, files: tuple[Attachment, ...] = ()) -> ThreadRef:
        """A new thread, opened by ``author`` mentioning the bot with ``text``."""
        thread = self.thread(f"w{next(self._threads)}-{self._token}")
        await self._said("mention", thread, author, text, files)
        return thread

    async def write(self, thread_id: str, author: Author, text: str, files: tuple[Attachment, ...] = ()) -> None:
        """``author`` writes ``text`` in the thread."""
        await self._said("message", self.thread(thread_id), author, text, files)

    async def click(self, thread_id: str, author: Author, button: Button, ref: str) -> None:
        """``author`` presses ``button`` of the message ``ref``."""
        await self.deliver(
            ThreadEvent(
                "button",
                self.thread(thread_id),
                author,
                self._key(),
                action_id=button.action_id,
                value=button.value,
                ref_message_id=ref,
            )
        )

    async def _said(
        self, kind: str, thread: ThreadRef, author: Author, text: str, files: tuple[Attachment, ...]
    ) -> None:
        said = OutboundMessage(Persona(PERSON, author.display_name), text, attachments=files)
        posted = Posted(f"h{next(self._ids)}-{self._token}", thread, said, time.monotonic())
        await self._add(posted)
        event = ThreadEvent(
            kind,  # type: ignore[arg-type]
            thread,
            author,
            self._key(),
            text=text,
            message_id=posted.id,
            attachments=files,
        )
        await self.deliver(event)

    def _key(self) -> str:
        return f"web.{self._token}.{next(self._keys)}"
