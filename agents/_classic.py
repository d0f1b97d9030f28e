"""The classic surface: typed messages shown to user code as AutoGen's plain dicts.

Inside, histories and transcripts are lists of :class:`~agents.messages.Message`. What the
classic API hands to user code (``chat_messages``, ``GroupChat.messages``, ``last_message``,
``ChatResult.chat_history``, the ``messages`` of a reply function or hook, the message of
``is_termination_msg``) is a plain ``dict`` in AutoGen's format, made at the moment it is
handed out, so the cost is paid only where user code looks.

:class:`MessageList` is a real ``list`` of those dicts (``==``, ``json.dumps``,
``isinstance(x, list)`` work) that writes its own changes (``append``, ``clear``, slices, ...)
back to the typed list it shows. Changing a dict inside it in place changes only that copy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, SupportsIndex, TypeVar, cast

from .messages import Message, MessageLike, as_message

__all__ = ["HistoriesView", "MessageList", "as_dicts", "classic", "is_typed", "typed", "typed_messages"]

K = TypeVar("K")
F = TypeVar("F", bound=Callable[..., Any])

_TYPED: set[Callable[..., Any]] = set()


def typed(func: F) -> F:
    """Mark a reply function or hook of this framework: it gets Messages, not dicts (no conversion)."""
    _TYPED.add(func)
    return func


def is_typed(func: Callable[..., Any]) -> bool:
    """Whether ``func`` (or the function of a bound method) was marked with :func:`typed`."""
    return getattr(func, "__func__", func) in _TYPED


def as_dicts(messages: Iterable[Message]) -> list[dict[str, Any]]:
    """The messages as AutoGen dicts (new dicts, owned by the caller)."""
    return [m.to_dict() for m in messages]


def classic(value: Any) -> Any:
    """A reply value as AutoGen hands it out: a Message becomes its dict; anything else is kept."""
    return value.to_dict() if isinstance(value, Message) else value


class MessageList(list[dict[str, Any]]):
    """A list of AutoGen dicts over a typed list of Messages; changes to the list go back to it."""

    __slots__ = ("_backing",)

    def __init__(self, backing: list[Message]) -> None:
        super().__init__(m.to_dict() for m in backing)
        self._backing = backing

    def _write_back(self) -> None:
        self._backing[:] = [as_message(m) for m in self]

    def append(self, message: MessageLike) -> None:
        typed = as_message(message)
        super().append(typed.to_dict())
        self._backing.append(typed)

    def extend(self, messages: Iterable[MessageLike]) -> None:
        for message in messages:
            self.append(message)

    def insert(self, index: SupportsIndex, message: MessageLike) -> None:
        super().insert(index, as_message(message).to_dict())
        self._write_back()

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            super().__setitem__(index, [as_message(m).to_dict() for m in value])
        else:
            super().__setitem__(index, as_message(value).to_dict())
        self._write_back()

    def __delitem__(self, index: SupportsIndex | slice) -> None:
        super().__delitem__(index)
        self._write_back()

    def __iadd__(self, messages: Iterable[MessageLike]) -> MessageList:  # type: ignore[override,misc]
        self.extend(messages)
        return self

    def pop(self, index: SupportsIndex = -1) -> dict[str, Any]:
        popped = super().pop(index)
        self._write_back()
        return popped

    def remove(self, value: Any) -> None:
        super().remove(value)
        self._write_back()

    def clear(self) -> None:
        super().clear()
        self._backing.clear()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        super().sort(*args, **kwargs)
        self._write_back()

    def reverse(self) -> None:
        super().reverse()
        self._write_back()


class HistoriesView(Mapping[K, MessageList]):
    """``chat_messages``: peer to its history as AutoGen dicts, over the typed histories.

    Looking up a peer with no history gives an empty list that belongs to it (a defaultdict,
    as in AutoGen); :meth:`get` does not create one.
    """

    __slots__ = ("_histories",)

    def __init__(self, histories: defaultdict[K, list[Message]]) -> None:
        self._histories = histories

    def __getitem__(self, peer: K) -> MessageList:
        return MessageList(self._histories[peer])

    def get(self, peer: K, default: Any = None) -> Any:
        return MessageList(self._histories[peer]) if peer in self._histories else default

    def __contains__(self, peer: object) -> bool:
        return peer in self._histories

    def __iter__(self) -> Iterator[K]:
        return iter(self._histories)

    def __len__(self) -> int:
        return len(self._histories)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr({peer: as_dicts(history) for peer, history in self._histories.items()})


def typed_messages(messages: Sequence[MessageLike]) -> list[Message]:
    """Messages from user code (dicts or Messages) as Messages; a list of Messages is returned as is."""
    if all(type(m) is Message for m in messages):
        return cast("list[Message]", messages if isinstance(messages, list) else list(messages))
    return [as_message(m) for m in messages]
