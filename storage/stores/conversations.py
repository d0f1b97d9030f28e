"""Conversations: one per platform thread, with the engine's state under optimistic concurrency."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NoReturn

from sqlalchemy import Connection, Select, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..errors import ConflictError, NotFoundError
from ..records import (
    ConversationRecord,
    ListChanges,
    MessageRecord,
    NewMessage,
    NewUsage,
    NewWait,
    WaitAnswer,
    record_from_row,
)
from ..schema import conversations, messages
from ._bare import bare_sqlite
from ._bare_step import save_step_bare
from ._base import Store
from .events import handled_in
from .messages import insert_numbered
from .state_changes import with_lists, write_changes_in
from .usage import log_usage_in
from .waits import answer_waits_in, open_wait_in

__all__ = ["ACTIVE_STATUSES", "ConversationStore"]

ACTIVE_STATUSES = ("running", "waiting")


# One statement for every step, built once (the state is not read back: the caller has it).
_SAVE_STEP = (
    update(conversations)
    .where(conversations.c.id == bindparam("cid"), conversations.c.version == bindparam("expected"))
    .values(
        state=bindparam("state", type_=conversations.c.state.type),
        version=conversations.c.version + 1,
        updated_at=bindparam("now", type_=conversations.c.updated_at.type),
        status=func.coalesce(bindparam("status", type_=conversations.c.status.type), conversations.c.status),
        last_seq=conversations.c.last_seq + bindparam("reserved"),
        prompt_tokens=conversations.c.prompt_tokens + bindparam("prompt_tokens"),
        completion_tokens=conversations.c.completion_tokens + bindparam("completion_tokens"),
        cost=conversations.c.cost + bindparam("cost"),
    )
    .returning(*(column for column in conversations.c if column.name != "state"))
)


class ConversationStore(Store):
    async def get_or_create(
        self, platform: str, workspace_id: str, channel_id: str, thread_id: str, *, team: str, status: str = "new"
    ) -> ConversationRecord:
        """The thread's conversation, created when there is none (concurrent callers get the same one).

        A thread that has one is only read; a new one is made in the group commit (a burst of
        mentions in new threads shares transactions with the other writes).
        """
        found = await self.find(platform, workspace_id, channel_id, thread_id)
        if found is not None:
            return found
        now = self.now()
        key = {"platform": platform, "workspace_id": workspace_id, "channel_id": channel_id, "thread_id": thread_id}
        create = (
            self.insert(conversations)
            .values(**key, team=team, status=status, created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=list(key))
        )
        read = select(conversations).where(*(conversations.c[k] == v for k, v in key.items()))

        def work(conn: Connection) -> ConversationRecord:
            conn.execute(create)
            return record_from_row(ConversationRecord, conn.execute(read).one())

        record: ConversationRecord = await self.db.write(work)
        if record.state is None:
            return record
        async with self.db.connect() as conn:  # made by someone else meanwhile, and saved since
            [record] = await with_lists(conn, [record])
        return record

    async def find(
        self, platform: str, workspace_id: str, channel_id: str, thread_id: str
    ) -> ConversationRecord | None:
        query = select(conversations).where(
            conversations.c.platform == platform,
            conversations.c.workspace_id == workspace_id,
            conversations.c.channel_id == channel_id,
            conversations.c.thread_id == thread_id,
        )
        async with self.db.connect() as conn:
            row = (await conn.execute(query)).first()
            found = await with_lists(conn, [record_from_row(ConversationRecord, row)] if row else [])
        return found[0] if found else None

    async def get(self, conversation_id: int) -> ConversationRecord:
        """Raises NotFoundError."""
        async with self.db.connect() as conn:
            row = (await conn.execute(select(conversations).where(conversations.c.id == conversation_id))).first()
            if row is None:
                raise NotFoundError(f"there is no conversation {conversation_id}")
            [record] = await with_lists(conn, [record_from_row(ConversationRecord, row)])
        return record

    async def save_state(
        self, conversation_id: int, state: Any, *, expected_version: int, status: str | None = None
    ) -> ConversationRecord:
        """Store the engine's state (and status) if nobody saved since ``expected_version``.

        Raises:
            ConflictError: someone else saved first; re-read and decide again.
            NotFoundError: no such conversation.
        """
        record, _ = await self.save_step(conversation_id, state, expected_version=expected_version, status=status)
        return record

    async def save_step(
        self,
        conversation_id: int,
        state: Any,
        *,
        expected_version: int,
        status: str | None = None,
        messages: Sequence[NewMessage] = (),
        usage: Sequence[NewUsage] = (),
        handled: Sequence[int] = (),
        open_wait: NewWait | None = None,
        answered: Sequence[WaitAnswer] = (),
        changes: ListChanges | None = None,
    ) -> tuple[ConversationRecord, list[MessageRecord]]:
        """Store a step's new messages and model usage with the engine's state after it, in one transaction.

        Either all is stored or nothing: a crash after this leaves the messages in the outbox
        and the state past them, so nothing is produced twice. Usage adds to the log and, unless
        cached, to the conversation's totals. ``handled``: inbox ids of the events this step
        handled, taken out of the inbox in the same transaction (so each is handled once: when one
        is gone, another worker handled it, and nothing is stored).
        ``open_wait`` opens a wait and ``answered`` closes waits, with the state: so the open waits
        are always those the stored states refer to. ``state`` may be a function of the new
        wait's id (None when none is opened), to refer to it. ``changes``: what this save changed
        in the lists the state refers to (see :mod:`storage.stores.state_changes`); the record
        returned holds ``state`` as given (the references in place).

        Raises:
            ConflictError: someone else saved first (nothing is stored).
            HandledElsewhereError: one of ``handled`` was handled already (nothing is stored).
            NotFoundError: no such conversation.
        """
        now = self.now()
        counted = [u for u in usage if not u.cached]
        params = {
            "cid": conversation_id,
            "expected": expected_version,
            "now": now,
            "status": status,
            "reserved": len(messages),  # their sequence numbers
            "prompt_tokens": sum(u.prompt_tokens for u in counted),
            "completion_tokens": sum(u.completion_tokens for u in counted),
            "cost": sum(u.cost for u in counted),
        }

        def work(conn: Connection) -> tuple[ConversationRecord, list[MessageRecord]]:
            answer_waits_in(conn, answered, now)
            wait_id = open_wait_in(conn, conversation_id, open_wait, now) if open_wait is not None else None
            saved = state(wait_id) if callable(state) else state
            driver = bare_sqlite(conn)
            if driver is not None:  # a SQLite file: the rest goes to sqlite3 itself (see _bare_step)
                done = save_step_bare(
                    driver, conn.dialect, {**params, "state": saved}, messages, usage, handled, changes
                )
                if done is None:
                    _refuse(conn, conversation_id, expected_version)
                return done
            row = conn.execute(_SAVE_STEP, {**params, "state": saved}).first()
            if row is None:
                _refuse(conn, conversation_id, expected_version)
            record = ConversationRecord(**{**row._mapping, "state": saved})
            if changes is not None:
                write_changes_in(conn, conversation_id, record.version, changes)
            stored = insert_numbered(conn, conversation_id, record.last_seq - len(messages) + 1, messages, now)
            log_usage_in(conn, conversation_id, usage, now)
            handled_in(conn, handled, all_there=True)
            return record, stored

        saved = await self.db.write(work)
        self.db.changes.changed(conversation_id)
        return saved

    async def set_status(self, conversation_id: int, status: str) -> None:
        """Change only the status (no version check: status is advisory; the state is not touched)."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(status=status, updated_at=self.now())
            )
        self.db.changes.changed(conversation_id)

    async def count_failure(self, conversation_id: int) -> int:
        """One more failure in a row of the conversation's work; returns how many now (across processes:
        the count is the row's, incremented in one statement)."""
        statement = (
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(failures=conversations.c.failures + 1)
            .returning(conversations.c.failures)
        )
        async with self.db.begin() as conn:
            return int((await conn.execute(statement)).scalar_one())

    async def clear_failures(self, conversation_id: int) -> None:
        """Its work went through: the next failure counts from one again."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id, conversations.c.failures > 0)
                .values(failures=0)
            )

    async def recent(self, limit: int = 20) -> list[ConversationRecord]:
        """The conversations changed last, newest first."""
        query = select(conversations).order_by(conversations.c.updated_at.desc(), conversations.c.id.desc())
        async with self.db.connect() as conn:
            return await _records_of(conn, query.limit(limit))

    async def listing(
        self,
        *,
        platform: str | None = None,
        team: str | None = None,
        statuses: Sequence[str] | None = None,
        updated_after: dt.datetime | None = None,
        limit: int = 200,
    ) -> list[ConversationRecord]:
        """Conversations across platforms, changed last first, narrowed by what is given (the console's list)."""
        query = select(conversations)
        if platform is not None:
            query = query.where(conversations.c.platform == platform)
        if team is not None:
            query = query.where(conversations.c.team == team)
        if statuses is not None:
            query = query.where(conversations.c.status.in_(list(statuses)))
        if updated_after is not None:
            query = query.where(conversations.c.updated_at >= updated_after)
        query = query.order_by(conversations.c.updated_at.desc(), conversations.c.id.desc()).limit(limit)
        async with self.db.connect() as conn:
            return await _records_of(conn, query)

    async def in_channel(
        self, platform: str, workspace_id: str, channel_id: str, *, statuses: Sequence[str] | None = None
    ) -> list[ConversationRecord]:
        """The channel's conversations (with one of ``statuses``), changed last first."""
        query = select(conversations).where(
            conversations.c.platform == platform,
            conversations.c.workspace_id == workspace_id,
            conversations.c.channel_id == channel_id,
        )
        if statuses is not None:
            query = query.where(conversations.c.status.in_(list(statuses)))
        query = query.order_by(conversations.c.updated_at.desc(), conversations.c.id.desc())
        async with self.db.connect() as conn:
            return await _records_of(conn, query)

    async def list_active(self) -> list[ConversationRecord]:
        """Conversations that are running or waiting: what to resume after a restart."""
        query = select(conversations).where(conversations.c.status.in_(ACTIVE_STATUSES)).order_by(conversations.c.id)
        async with self.db.connect() as conn:
            return await _records_of(conn, query)

    async def threads_with_work(self, limit: int = 10_000) -> list[tuple[str, str, str, str]]:
        """Where a step may be due, as (platform, workspace_id, channel_id, thread_id), oldest first:
        the conversations that are running or have stored messages not posted yet.

        Only the threads, not their states: the sweep and a start ask this to find work no worker holds.
        """
        unposted = select(messages.c.conversation_id).where(messages.c.posted_at.is_(None))
        c = conversations.c
        query = (
            select(c.platform, c.workspace_id, c.channel_id, c.thread_id)
            .where(or_(c.status == "running", c.id.in_(unposted)))
            .order_by(c.id)
            .limit(limit)
        )
        async with self.db.connect() as conn:
            return [tuple(row) for row in await conn.execute(query)]


async def _records_of(conn: AsyncConnection, query: Select[Any]) -> list[ConversationRecord]:
    rows = (await conn.execute(query)).all()
    return await with_lists(conn, [record_from_row(ConversationRecord, row) for row in rows])


def _refuse(conn: Connection, conversation_id: int, expected_version: int) -> NoReturn:
    current = conn.execute(
        select(conversations.c.version).where(conversations.c.id == conversation_id)
    ).scalar_one_or_none()
    if current is None:
        raise NotFoundError(f"there is no conversation {conversation_id}")
    raise ConflictError(
        f"conversation {conversation_id} was saved by someone else: it is at version {current}, not {expected_version}"
    )
