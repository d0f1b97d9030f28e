"""A conversation's long lists, stored by what each save changed, and put back into its state.

A run's state is mostly lists that only grow (every agent's history, the transcript). Storing
the whole state at every save made a step's write cost grow with the thread; instead the state
holds a reference where each list goes (:func:`list_ref`), and each save adds one row to
``state_changes`` with the entries it appended (:class:`~storage.records.ListChanges`), in the
same transaction as the state. Reading a conversation replays its rows in order and puts each
list back in place, so what the stores hand out is the whole state, as it was before. States
saved before the rows existed hold their lists inline and are handed out as they are.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..records import ConversationRecord, ListChanges
from ..schema import conversations, state_changes

__all__ = ["LIST_REF", "inline_all_sync", "list_ref", "with_lists", "write_changes_in"]

LIST_REF = "$list"
_ADD = insert(state_changes)  # built once: a step's save runs it (SQLAlchemy caches its compiled form)


def list_ref(key: str) -> dict[str, str]:
    """What a state holds where the list ``key`` goes."""
    return {LIST_REF: key}


def write_changes_in(conn: Connection, conversation_id: int, version: int, changes: ListChanges) -> None:
    """Add the changes of the save that made ``version`` (a whole set lets the rows before it go)."""
    if changes.whole:
        conn.execute(delete(state_changes).where(state_changes.c.conversation_id == conversation_id))
    body = {"items": changes.items, "lists": {key: [keep, added] for key, (keep, added) in changes.lists.items()}}
    conn.execute(_ADD, {"conversation_id": conversation_id, "version": version, "changes": body})


async def with_lists(conn: AsyncConnection, records: Sequence[ConversationRecord]) -> list[ConversationRecord]:
    """``records`` with their states whole: each list put back in place."""
    ids = [r.id for r in records if r.state is not None]
    if not ids:
        return list(records)
    query = (
        select(state_changes.c.conversation_id, state_changes.c.changes)
        .where(state_changes.c.conversation_id.in_(ids))
        .order_by(state_changes.c.conversation_id, state_changes.c.version)
    )
    found: defaultdict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for cid, changes in (await conn.execute(query)).all():
        found[cid].append(changes)
    return [dataclasses.replace(r, state=assemble(r.state, found[r.id])) if r.id in found else r for r in records]


def assemble(state: Any, rows: Iterable[Mapping[str, Any]]) -> Any:
    """``state`` with each reference replaced by its list, as ``rows`` (in order) made it."""
    lists: dict[str, list[Any]] = {}
    for changes in rows:
        items = changes["items"]
        for key, (keep, added) in changes["lists"].items():
            kept = lists.setdefault(key, [])
            del kept[keep:]
            kept.extend(items[i] for i in added)
    return _fill(state, lists)


def _fill(value: Any, lists: Mapping[str, list[Any]]) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get(LIST_REF), str):
            return list(lists.get(value[LIST_REF], ()))
        return {k: _fill(v, lists) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, lists) for v in value]
    return value


def inline_all_sync(conn: Connection) -> None:
    """Put every stored list back into its state and drop the rows (what a downgrade needs)."""
    ids = conn.execute(select(state_changes.c.conversation_id).distinct()).scalars().all()
    for cid in ids:
        state = conn.execute(select(conversations.c.state).where(conversations.c.id == cid)).scalar_one()
        rows = conn.execute(
            select(state_changes.c.changes)
            .where(state_changes.c.conversation_id == cid)
            .order_by(state_changes.c.version)
        ).scalars()
        conn.execute(update(conversations).where(conversations.c.id == cid).values(state=assemble(state, rows)))
        conn.execute(delete(state_changes).where(state_changes.c.conversation_id == cid))
