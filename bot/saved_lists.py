"""What a save of a thread's run changed in its message lists, so that only that is stored.

A run's state is mostly message lists that only grow (each agent's history with each peer, the
group chat's transcript): storing them whole at every step made a step's write cost grow with
the thread. :class:`SavedLists` stands in for each list in the state (a reference, see
:func:`storage.list_ref`) and collects what the list gained since the last save that went
through; a message delivered to several agents at once is stored once. Storage keeps the lists
apart and hands the whole state back when the conversation is read.
"""

from __future__ import annotations

from typing import Any

from agents import GroupChatRun, Message
from storage import ListChanges, list_ref

__all__ = ["SavedLists"]


class SavedLists:
    """The lists as last stored, and the changes of the save under way.

    A new one knows no list: its first save stores every list whole (so the rows of an earlier
    run, or a state saved with its lists inline, are let go). :meth:`loaded` knows the lists of a
    state just read back.
    """

    def __init__(self) -> None:
        self._stored: dict[str, list[Message]] = {}
        self._pending: dict[str, list[Message]] = {}
        self._whole = True
        self._items: list[Message] = []
        self._index: dict[Any, int] = {}
        self._changes: dict[str, tuple[int, list[int]]] = {}

    @classmethod
    def loaded(cls, run: GroupChatRun) -> SavedLists:
        """The lists of ``run`` as stored (it was just read back)."""
        saved = cls()
        run.to_json(saved._adopt)
        saved._stored, saved._pending, saved._whole = saved._pending, {}, False
        return saved

    def state(self, run: GroupChatRun) -> tuple[dict[str, Any], ListChanges | None]:
        """``run``'s state with references in place of its lists, and what changed in them (None: nothing)."""
        self._pending, self._items, self._index, self._changes = {}, [], {}, {}
        state = run.to_json(self._track)
        if not self._changes and not self._whole:
            return state, None
        items = [m.to_dict() for m in self._items]
        return state, ListChanges(items, self._changes, whole=self._whole)

    def stored(self) -> None:
        """The save went through: its lists are now the stored ones."""
        self._stored.update(self._pending)
        self._pending = {}
        self._whole = False

    def _adopt(self, key: str, messages: list[Message]) -> None:
        self._pending[key] = list(messages)

    def _track(self, key: str, messages: list[Message]) -> dict[str, str]:
        before = self._stored.get(key)
        keep = len(before) if before is not None and messages[: len(before)] == before else 0
        if keep < len(messages) or before is None or keep < len(before):
            self._changes[key] = (keep, [self._item(m) for m in messages[keep:]])
            self._pending[key] = list(messages)
        return list_ref(key)

    def _item(self, message: Message) -> int:
        """Where ``message`` is among the save's items; equal messages share one (the copies
        each agent keeps of a message delivered to all)."""
        token: Any = message if message.context is None else id(message)  # equality leaves context out
        try:
            index = self._index.get(token)
        except TypeError:  # a part it cannot hash (audio, a file): kept on its own
            token = id(message)
            index = self._index.get(token)
        if index is None:
            index = self._index[token] = len(self._items)
            self._items.append(message)
        return index
