"""Chat messages as typed values, converting to and from the OpenAI chat format.

A :class:`Message` is what an agent keeps in its history. It is built from a string, an
AutoGen-style dict (``content`` str/list/None, ``role``, ``name``, ``tool_calls``,
``tool_call_id``, ``tool_responses``) or another Message, and reads like a read-only
mapping (``msg["content"]``, ``msg.get("tool_calls")``) so that AutoGen-style code that
inspects messages keeps working.

``tool_responses`` is AutoGen's way of carrying several tool results in one message; on
the wire each becomes its own ``role: tool`` message (:meth:`Message.to_openai`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, cast

from .errors import InvalidMessageError

__all__ = [
    "ContentPart",
    "ImagePart",
    "Message",
    "MessageLike",
    "Role",
    "TextPart",
    "ToolCall",
    "ToolResponse",
    "WireCache",
    "as_message",
    "content_str",
]

Role: TypeAlias = Literal["system", "user", "assistant", "tool"]
_ROLES = ("system", "user", "assistant", "tool")

JSONDict: TypeAlias = dict[str, Any]


@dataclass(frozen=True, slots=True)
class TextPart:
    """A text part of multimodal content."""

    text: str

    def to_dict(self) -> JSONDict:
        return {"type": "text", "text": self.text}


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image part of multimodal content: a URL or a ``data:`` URI."""

    url: str
    detail: str | None = None

    def to_dict(self) -> JSONDict:
        image: JSONDict = {"url": self.url}
        if self.detail is not None:
            image["detail"] = self.detail
        return {"type": "image_url", "image_url": image}


@dataclass(frozen=True, slots=True)
class OtherPart:
    """A content part this layer does not interpret (audio, files); passed through as is."""

    data: Mapping[str, Any]

    def to_dict(self) -> JSONDict:
        return dict(self.data)


ContentPart: TypeAlias = TextPart | ImagePart | OtherPart
Content: TypeAlias = str | tuple[ContentPart, ...] | None


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call the model asked for. ``arguments`` is JSON text, as the model wrote it."""

    id: str
    name: str
    arguments: str = "{}"

    def to_dict(self) -> JSONDict:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ToolCall:
        function = data.get("function")
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise InvalidMessageError(
                f"a tool call needs 'function': {{'name': ..., 'arguments': ...}}; got {dict(data)!r}"
            )
        arguments = function.get("arguments")
        return cls(
            id=str(data.get("id") or ""),
            name=function["name"],
            arguments=arguments if isinstance(arguments, str) else "{}",
        )


@dataclass(frozen=True, slots=True)
class ToolResponse:
    """The result of one tool call, as text for the model."""

    tool_call_id: str
    content: str

    def to_dict(self) -> JSONDict:
        return {"tool_call_id": self.tool_call_id, "role": "tool", "content": self.content}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ToolResponse:
        content = data.get("content")
        return cls(tool_call_id=str(data.get("tool_call_id") or ""), content="" if content is None else str(content))


_KEYS = ("content", "role", "name", "tool_calls", "tool_call_id", "tool_responses", "context")


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message, from the point of view of the agent that holds it.

    Raises:
        InvalidMessageError: when it has neither content nor tool calls nor tool results.
    """

    role: Role
    content: Content = None
    name: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    tool_responses: tuple[ToolResponse, ...] = ()
    # AutoGen's message "context": fills the receiver's templates (``allow_format_str_template``);
    # never sent to the model as such.
    context: Mapping[str, Any] | None = field(default=None, compare=False)
    _wire: tuple[JSONDict, ...] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.role not in _ROLES:
            raise InvalidMessageError(f"unknown message role {self.role!r}; use one of {', '.join(_ROLES)}")
        if self.content is None and not self.tool_calls and not self.tool_responses:
            raise InvalidMessageError(
                "a message needs content or tool calls: both are missing. "
                "Give it 'content' (a string or a list of parts) or 'tool_calls'."
            )

    def __eq__(self, other: object) -> bool:
        """Equal to a Message with the same fields, or to the AutoGen dict it stands for."""
        if isinstance(other, Message):
            return self._fields() == other._fields()
        if isinstance(other, Mapping):
            return self.to_dict() == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._fields())

    def _fields(self) -> tuple[Any, ...]:
        return (self.role, self.content, self.name, self.tool_calls, self.tool_call_id, self.tool_responses)

    # -- construction ---------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, role: Role | None = None) -> Message:
        """Build a message from an AutoGen-style or OpenAI-style dict.

        Args:
            data: the dict; ``role`` in it wins over the ``role`` argument.
            role: the role when the dict has none.
        """
        given_role = data.get("role") or role
        if given_role is None:
            raise InvalidMessageError(f"a message needs a role; got {dict(data)!r}")
        raw_calls = data.get("tool_calls") or ()
        raw_responses = data.get("tool_responses") or ()
        return cls(
            role=cast(Role, given_role),
            content=_content_from_wire(data.get("content")),
            name=data.get("name") or None,
            tool_calls=tuple(c if isinstance(c, ToolCall) else ToolCall.from_dict(c) for c in raw_calls),
            tool_call_id=data.get("tool_call_id") or None,
            tool_responses=tuple(
                r if isinstance(r, ToolResponse) else ToolResponse.from_dict(r) for r in raw_responses
            ),
            context=dict(data["context"]) if isinstance(data.get("context"), Mapping) else None,
        )

    # -- reading --------------------------------------------------------------------

    @property
    def text(self) -> str:
        """The content as plain text (images become ``<image>``)."""
        return content_str(self.content)

    def to_dict(self) -> JSONDict:
        """The AutoGen-style dict: the keys that are set, JSON-ready."""
        out: JSONDict = {"content": _content_to_wire(self.content), "role": self.role}
        if self.name is not None:
            out["name"] = self.name
        if self.tool_calls:
            out["tool_calls"] = [c.to_dict() for c in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.tool_responses:
            out["tool_responses"] = [r.to_dict() for r in self.tool_responses]
        if self.context is not None:
            out["context"] = dict(self.context)
        return out

    def to_openai(self) -> list[JSONDict]:
        """The chat-completion messages this message stands for (tool results expanded)."""
        return [dict(m) for m in self.wire()]

    def wire(self) -> tuple[JSONDict, ...]:
        """Like :meth:`to_openai`, computed once and shared: callers must not mutate it."""
        if self._wire is None:
            object.__setattr__(self, "_wire", self._build_wire())
        return cast(tuple[JSONDict, ...], self._wire)

    def _build_wire(self) -> tuple[JSONDict, ...]:
        expanded = [r.to_dict() for r in self.tool_responses]
        if self.tool_responses and self.role == "tool":
            return tuple(expanded)
        if self.role == "tool":
            return ({"role": "tool", "content": self.text, "tool_call_id": self.tool_call_id or ""},)
        own: JSONDict = {"role": self.role, "content": _content_to_wire(self.content)}
        if self.name is not None:
            own["name"] = self.name
        if self.tool_calls:
            own["tool_calls"] = [c.to_dict() for c in self.tool_calls]
        return (*expanded, own)

    # -- read-only mapping, for AutoGen-style code -------------------------------------

    def __getitem__(self, key: str) -> Any:
        if key not in self:
            raise KeyError(key)
        return self.to_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default  # noqa: SIM401 - this is get()

    def __contains__(self, key: object) -> bool:
        if key in ("content", "role"):
            return True
        if key == "name":
            return self.name is not None
        if key == "tool_call_id":
            return self.tool_call_id is not None
        if key in ("tool_calls", "tool_responses"):
            return bool(getattr(self, key))
        if key == "context":
            return self.context is not None
        return False

    def keys(self) -> list[str]:
        return [k for k in _KEYS if k in self]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())


MessageLike: TypeAlias = str | Mapping[str, Any] | Message


def as_message(message: MessageLike) -> Message:
    """``message`` as a Message: a string is a user message, and so is a dict without a role."""
    if isinstance(message, Message):
        return message
    return Message.from_dict({"content": message} if isinstance(message, str) else message, role="user")


class WireCache:
    """Flattens messages to their wire dicts, redoing only what changed since the last call.

    A conversation's prompt is the previous prompt plus a message or two: the unchanged prefix
    (the same message objects, checked by identity) is reused, so a long thread costs pointer
    comparisons per call instead of a conversion per message.
    """

    __slots__ = ("_ends", "_messages", "_parts")

    def __init__(self) -> None:
        self._messages: list[Message] = []
        self._ends: list[int] = []
        self._parts: list[JSONDict] = []

    def flatten(self, messages: Sequence[Message]) -> list[JSONDict]:
        """The wire dicts of ``messages``, in order (a new list; the dicts are shared)."""
        old = self._messages
        same = 0
        limit = min(len(old), len(messages))
        while same < limit and old[same] is messages[same]:
            same += 1
        del self._parts[self._ends[same - 1] if same else 0 :]
        del self._ends[same:]
        del old[same:]
        for message in messages[same:]:
            self._parts.extend(message.wire())
            self._ends.append(len(self._parts))
            old.append(message)
        return list(self._parts)


def content_str(content: Content | Sequence[Mapping[str, Any]]) -> str:
    """Plain text of message content: text parts joined, images as ``<image>``."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    pieces: list[str] = []
    for part in content:
        if isinstance(part, TextPart):
            pieces.append(part.text)
        elif isinstance(part, ImagePart):
            pieces.append("<image>")
        else:
            data = part.data if isinstance(part, OtherPart) else part
            if data.get("type") == "text":
                pieces.append(str(data.get("text", "")))
            elif data.get("type") == "image_url":
                pieces.append("<image>")
    return "".join(pieces)


def _content_from_wire(content: Any) -> Content:
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)):
        return tuple(_part_from_wire(p) for p in content)
    raise InvalidMessageError(
        f"message content must be a string, a list of content parts or None; got {type(content).__name__}"
    )


def _part_from_wire(part: Any) -> ContentPart:
    if isinstance(part, (TextPart, ImagePart, OtherPart)):
        return part
    if isinstance(part, str):
        return TextPart(part)
    if not isinstance(part, Mapping):
        raise InvalidMessageError(f"a content part must be a dict; got {type(part).__name__}")
    kind = part.get("type")
    if kind == "text":
        return TextPart(str(part.get("text", "")))
    image = part.get("image_url")
    if kind == "image_url" and isinstance(image, Mapping) and isinstance(image.get("url"), str):
        return ImagePart(image["url"], image.get("detail"))
    return OtherPart(dict(part))


def _content_to_wire(content: Content) -> str | list[JSONDict] | None:
    if content is None or isinstance(content, str):
        return content
    return [p.to_dict() for p in content]
