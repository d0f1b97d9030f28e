"""The neutral thread model: what every chat platform is translated to and from.

Platform words (Slack's ``ts``, Discord's ``guild_id``) stay in each platform's adapter; here
there are workspaces, channels, threads, people and messages.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from aiohttp import web

__all__ = [
    "Attachment",
    "Author",
    "Button",
    "Capabilities",
    "ChannelAccess",
    "ChatPlatform",
    "EventHandler",
    "MessageStream",
    "OutboundMessage",
    "Persona",
    "SkippedFile",
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
    roles: tuple[str, ...] = ()  # the platform's role ids (Discord), for who may start or approve


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to upload into the thread (a plot, a long output)."""

    name: str
    mime_type: str
    data: bytes


SkipReason = Literal["not_image", "too_large", "too_many", "unreadable"]


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file a person attached that the event does not carry, and why (so the team can be told).

    ``reason``: not an image, larger than the platform's image limit, more images than one
    message passes on, or the platform would not hand it over.
    """

    name: str
    mime_type: str
    size: int
    reason: SkipReason


EventKind = Literal["message", "mention", "command", "button", "start"]


@dataclass(frozen=True, slots=True)
class ThreadEvent:
    """Something that happened in a thread.

    Attributes:
        kind: a plain message, a mention of the bot, a command (``/stop``), a button press, or
            ``start``: a run started without a platform event (a schedule, the command line).
        thread: where.
        author: who.
        event_key: the platform's id for this delivery, the same when it is delivered twice.
        text: the message (mentions of the bot removed), or the command's arguments.
        message_id: the platform's id of the message, when it is one.
        command: the command's name (``stop``, ``pause``, ``resume``, ``status``).
        action_id: which button (``approve``, ``reject``, ``continue``, ``choose``, ...).
        value: the button's value (what it answers).
        ref_message_id: the message the button belongs to.
        attachments: images people attached (for vision models), fetched when the event came
            (a platform's file links expire or need its token), so the kept event holds them.
        skipped: files people attached that ``attachments`` leaves out, with why.
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
    attachments: tuple[Attachment, ...] = ()
    skipped: tuple[SkippedFile, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (to keep the event until it is handled)."""
        data = asdict(self)
        data["attachments"] = [
            {"name": a.name, "mime_type": a.mime_type, "data": base64.b64encode(a.data).decode()}
            for a in self.attachments
        ]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ThreadEvent:
        author = dict(data["author"])
        author["roles"] = tuple(author.get("roles", ()))
        attachments = tuple(
            Attachment(a["name"], a["mime_type"], base64.b64decode(a["data"])) for a in data.get("attachments", ())
        )
        skipped = tuple(SkippedFile(**s) for s in data.get("skipped", ()))
        return cls(
            **{
                **data,
                "thread": ThreadRef(**data["thread"]),
                "author": Author(**author),
                "attachments": attachments,
                "skipped": skipped,
            }
        )


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


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a platform can do; the runtime adapts to it instead of knowing each platform's rules.

    Attributes:
        personas: each agent can post under its own name and icon (else a bold name prefix).
        buttons: messages can carry buttons.
        edits: a posted message can be replaced (``update``).
        ephemeral: a message can be shown to one person only (else it is posted in the thread).
        streaming: ``start_stream`` can show a reply while it is written.
        stream_seconds: how long a stream may stay open (the platform closes it after that).
        uploads: files can be attached.
        typing: ``set_status`` shows that the agents are working.
        max_message_chars: the longest text one message may carry (the platform splits longer ones).
        command: how people write the bot's command in a channel (``/threadcrew``).
    """

    personas: bool = False
    buttons: bool = False
    edits: bool = False
    ephemeral: bool = False
    streaming: bool = False
    stream_seconds: float | None = None
    uploads: bool = False
    typing: bool = False
    max_message_chars: int | None = None
    command: str = "/threadcrew"


@dataclass(frozen=True, slots=True)
class ChannelAccess:
    """Whether the bot can post (and open threads) in a channel, as far as the platform can tell.

    Attributes:
        allowed: yes, no, or None when the platform cannot tell (a scope it was not granted, an
            outage).
        reason: when not True, why, with what to do about it, in words people read
            ("I am not in #eng: invite me there with /invite @threadcrew").
    """

    allowed: bool | None
    reason: str = ""


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
    capabilities: Capabilities

    async def run(self, on_event: EventHandler) -> None:
        """Deliver events to ``on_event`` until :meth:`close`; returns when closed."""
        ...

    @property
    def connected(self) -> bool:
        """Whether the platform can reach people now (for ``/readyz``)."""
        ...

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        """HTTP routes the platform needs on the bot's web server (Slack's HTTP mode); often none."""
        ...

    async def open_thread(self, workspace_id: str, channel_id: str, message: OutboundMessage) -> ThreadRef:
        """Post ``message`` into a channel as the start of a new thread; returns that thread.

        This is how a run starts without an event (a schedule, the command line, the console).
        """
        ...

    async def can_post_in(self, workspace_id: str, channel_id: str) -> ChannelAccess:
        """Whether the bot can start threads in the channel (a schedule is refused where it cannot).

        Never raises for the platform's own failures: those are ``allowed=None``, with the reason.
        """
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
