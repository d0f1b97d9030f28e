"""The neutral thread model: what every chat platform is translated to and from.

Platform words (Slack's ``ts``, Discord's ``guild_id``) stay in each platform's adapter; here
there are workspaces, channels, threads, people and messages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

__all__ = [
    "Attachment",
    "Author",
    "Button",
    "ChatPlatform",
    "EventHandler",
    "MessageStream",
    "OutboundMessage",
    "Persona",
    "ThreadEvent",
    "ThreadRef",
]


@dataclass(frozen=True, slots=True)
class ThreadRef:
    """One thread on one platform; together the four fields name it everywhere."""

    platform: str
    workspace_id: str
    channel_id: str
    thread_id: str

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.workspace_id}:{self.channel_id}:{self.thread_id}"


@dataclass(frozen=True, slots=True)
class Author:
    """Who wrote an event: a person, or a bot (other bots are usually ignored)."""

    id: str
    display_name: str
    is_bot: bool = False


EventKind = Literal["message", "mention", "command", "button"]


@dataclass(frozen=True, slots=True)
class ThreadEvent:
    """Something that happened in a thread.

    Attributes:
        kind: a plain message, a mention of the bot, a command (``/stop``), or a button press.
        thread: where.
        author: who.
        event_key: the platform's id for this delivery, the same when it is delivered twice.
        text: the message (mentions of the bot removed), or the command's arguments.
        message_id: the platform's id of the message, when it is one.
        command: the command's name (``stop``, ``pause``, ``resume``, ``status``).
        action_id: which button (``approve``, ``reject``, ``continue``, ``choose``, ...).
        value: the button's value (what it answers).
        ref_message_id: the message the button belongs to.
    """

    kind: EventKind
    thread: ThreadRef
    author: Author
    event_key: str
    text: str = ""
    message_id: str | None = None
    command: str | None = None
    action_id: str | None = None
    value: str | None = None
    ref_message_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (to keep the event until it is handled)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ThreadEvent:
        return cls(**{**data, "thread": ThreadRef(**data["thread"]), "author": Author(**data["author"])})


@dataclass(frozen=True, slots=True)
class Persona:
    """How an agent appears in the thread."""

    name: str
    display_name: str | None = None
    icon_emoji: str | None = None
    icon_url: str | None = None

    @property
    def label(self) -> str:
        return self.display_name or self.name


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to upload into the thread (a plot, a long output)."""

    name: str
    mime_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Button:
    """A button under a message; pressing it sends a ``button`` event with ``action_id`` and ``value``."""

    label: str
    action_id: str
    value: str
    style: Literal["primary", "danger"] | None = None


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A message for the thread, in markdown, from a persona.

    ``key`` is threadcrew's own id for it: a platform that can find a posted message by it
    lets a restarted bot avoid posting it twice.
    """

    persona: Persona
    text: str
    key: str = ""
    attachments: tuple[Attachment, ...] = ()
    buttons: tuple[Button, ...] = ()
    ephemeral_for: str | None = None
    notes: tuple[str, ...] = field(default=())


EventHandler = Callable[[ThreadEvent], Awaitable[None]]


class MessageStream(Protocol):
    """A message that shows a model's reply as it is written (see ``ChatPlatform.start_stream``)."""

    async def append(self, text: str) -> None:
        """Add ``text`` to what the message shows."""
        ...

    async def finish(self, message: OutboundMessage) -> str:
        """Turn the streamed message into ``message`` (its final text, buttons, key); returns its id."""
        ...

    async def abandon(self) -> None:
        """Take the streamed message away (the reply it showed was not kept)."""
        ...


class ChatPlatform(Protocol):
    """A chat platform, translated to the thread model."""

    name: str

    async def run(self, on_event: EventHandler) -> None:
        """Deliver events to ``on_event`` until :meth:`close`; returns when closed."""
        ...

    async def post(self, thread: ThreadRef, message: OutboundMessage) -> str:
        """Post into the thread; returns the platform's id of the (first) posted message."""
        ...

    async def update(self, thread: ThreadRef, message_id: str, message: OutboundMessage) -> None:
        """Replace a posted message (an approval that was decided, a status)."""
        ...

    async def find_posted(self, thread: ThreadRef, key: str) -> str | None:
        """The id of a message posted earlier with ``key``, or None (to post it once only)."""
        ...

    async def set_status(self, thread: ThreadRef, status: str | None) -> None:
        """Show that the agents are working in the thread (``status``), or stop showing it (None)."""
        ...

    async def start_stream(
        self, thread: ThreadRef, persona: Persona, *, reader: str | None = None
    ) -> MessageStream | None:
        """A message to stream a reply into, or None where the platform cannot stream.

        ``reader`` is the person the reply is for (Slack streams to one reader in a channel)."""
        ...

    async def close(self) -> None: ...
