"""The stores, on SQLite and on PostgreSQL (the ``db`` fixture runs each test on both)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import func, select

from adapters.slack import slack_installation_store
from storage import (
    ConflictError,
    Database,
    HandledElsewhereError,
    NewMessage,
    NewUsage,
    NotFoundError,
    upgrade,
)
from storage.schema import messages
from tests.storage.conftest import FakeClock

THREAD = ("slack", "T1", "C1", "1700000000.000100")


async def conversation_id(db: Database, thread: str = THREAD[3]) -> int:
    record = await db.stores.conversations.get_or_create("slack", "T1", "C1", thread, team="dev")
    return record.id


class TestConversations:
    async def test_get_or_create_returns_the_same_conversation(self, db: Database) -> None:
        first = await db.stores.conversations.get_or_create(*THREAD, team="dev")
        again = await db.stores.conversations.get_or_create(*THREAD, team="other")
        assert first.id == again.id
        assert again.team == "dev"
        assert (first.status, first.version, first.last_seq, first.state) == ("new", 0, 0, None)
        assert first.created_at.tzinfo == dt.UTC
        assert await db.stores.conversations.find(*THREAD) == first
        assert await db.stores.conversations.find("slack", "T1", "C1", "other") is None

    async def test_threads_with_work_are_the_running_ones_and_those_with_unposted_messages(self, db: Database) -> None:
        running, unposted, waiting, idle = [await conversation_id(db, t) for t in ("r", "u", "w", "i")]
        for conversation, status in ((running, "running"), (unposted, "finished"), (waiting, "waiting")):
            await db.stores.conversations.set_status(conversation, status)
        message = await db.stores.messages.append(unposted, NewMessage(role="assistant", content="kept"))
        said = await db.stores.messages.append(waiting, NewMessage(role="assistant", content="out"))
        await db.stores.messages.mark_posted(said.id, "1700000001.000300")
        await db.stores.messages.append(
            idle, NewMessage(role="user", content="posted", posted_at=dt.datetime.now(dt.UTC))
        )
        assert await db.stores.conversations.threads_with_work() == [
            ("slack", "T1", "C1", "r"),
            ("slack", "T1", "C1", "u"),
        ]
        await db.stores.messages.mark_posted(message.id, "1700000001.000400")
        assert await db.stores.conversations.threads_with_work(limit=5) == [("slack", "T1", "C1", "r")]

    async def test_concurrent_get_or_create_makes_one_conversation(self, db: Database) -> None:
        records = await asyncio.gather(*(db.stores.conversations.get_or_create(*THREAD, team="dev") for _ in range(10)))
        assert len({r.id for r in records}) == 1

    async def test_saving_state_bumps_the_version_and_a_stale_save_is_a_conflict(self, db: Database) -> None:
        record = await db.stores.conversations.get_or_create(*THREAD, team="dev")
        saved = await db.stores.conversations.save_state(
            record.id, {"phase": "speak", "round": 3}, expected_version=0, status="running"
        )
        assert (saved.version, saved.status, saved.state) == (1, "running", {"phase": "speak", "round": 3})
        with pytest.raises(ConflictError, match="saved by someone else: it is at version 1, not 0"):
            await db.stores.conversations.save_state(record.id, {"stale": True}, expected_version=0)
        assert (await db.stores.conversations.get(record.id)).state == {"phase": "speak", "round": 3}
        with pytest.raises(NotFoundError):
            await db.stores.conversations.save_state(999_999, {}, expected_version=0)

    async def test_of_two_concurrent_saves_exactly_one_wins(self, db: Database) -> None:
        record = await db.stores.conversations.get_or_create(*THREAD, team="dev")
        results = await asyncio.gather(
            *(db.stores.conversations.save_state(record.id, {"by": i}, expected_version=0) for i in range(5)),
            return_exceptions=True,
        )
        assert sum(not isinstance(r, Exception) for r in results) == 1
        assert all(isinstance(r, ConflictError) for r in results if isinstance(r, Exception))

    async def test_active_conversations_are_the_running_and_waiting_ones(self, db: Database) -> None:
        ids = [await conversation_id(db, f"t{i}") for i in range(4)]
        for cid, status in zip(ids, ("running", "waiting", "finished", "stopped"), strict=True):
            await db.stores.conversations.set_status(cid, status)
        assert [c.id for c in await db.stores.conversations.list_active()] == ids[:2]

    async def test_recent_lists_the_conversations_changed_last_first(self, db: Database, clock: FakeClock) -> None:
        ids = [await conversation_id(db, f"t{i}") for i in range(3)]
        clock.advance(seconds=60)
        await db.stores.conversations.save_state(ids[1], {"touched": True}, expected_version=0)
        assert [c.id for c in await db.stores.conversations.recent(2)] == [ids[1], ids[2]]
        assert [c.id for c in await db.stores.conversations.recent()] == [ids[1], ids[2], ids[0]]


class TestMessages:
    async def test_append_numbers_messages_and_keeps_their_json(self, db: Database) -> None:
        cid = await conversation_id(db)
        first = await db.stores.messages.append(
            cid, NewMessage(role="user", content="hi", author_kind="human", author_id="U1", name="alice")
        )
        calls = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
        second = await db.stores.messages.append(
            cid, NewMessage(role="assistant", tool_calls=calls, attachments=[{"name": "plot.png", "size": 10}])
        )
        assert (first.seq, second.seq) == (1, 2)
        assert (first.author_kind, first.author_id, first.name) == ("human", "U1", "alice")
        assert second.tool_calls == calls
        assert second.content is None
        assert (await db.stores.conversations.get(cid)).last_seq == 2

    async def test_many_concurrent_appenders_never_repeat_or_skip_a_number(self, db: Database) -> None:
        cid = await conversation_id(db)
        await asyncio.gather(
            *(db.stores.messages.append(cid, NewMessage(role="user", content=str(i))) for i in range(60))
        )
        stored = await db.stores.messages.list_since(cid)
        assert [m.seq for m in stored] == list(range(1, 61))
        assert sorted(int(m.content or "") for m in stored) == list(range(60))

    async def test_append_many_is_one_consecutive_block(self, db: Database) -> None:
        cid = await conversation_id(db)
        await db.stores.messages.append(cid, NewMessage(role="user", content="first"))
        block = await db.stores.messages.append_many(cid, [NewMessage(role="assistant", content=c) for c in "abc"])
        assert [(m.seq, m.content) for m in block] == [(2, "a"), (3, "b"), (4, "c")]
        assert [m.content for m in await db.stores.messages.list_since(cid, after_seq=2)] == ["b", "c"]
        assert await db.stores.messages.append_many(cid, []) == []
        with pytest.raises(NotFoundError):
            await db.stores.messages.append(424242, NewMessage(role="user", content="x"))

    async def test_appends_queued_together_are_each_numbered_and_returned_as_stored(self, db: Database) -> None:
        one, two = await conversation_id(db, "one"), await conversation_id(db, "two")
        posted = dt.datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
        said = NewMessage(
            role="user", content="hi", tool_calls=({"id": "c1"},), platform_message_id="p1", posted_at=posted
        )
        results = await asyncio.gather(
            db.stores.messages.append(one, said),
            db.stores.messages.append(424242, said),  # no such conversation: refused alone
            db.stores.messages.append_many(two, [NewMessage(role="assistant", content=c) for c in "ab"]),
            db.stores.messages.append(one, NewMessage(role="assistant", content="second")),
            db.stores.messages.append(two, NewMessage(role="assistant", content="c")),
            return_exceptions=True,
        )
        first, refused, block, second, third = results
        assert isinstance(refused, NotFoundError)
        assert [first, second] == await db.stores.messages.list_since(one)  # as reading them back gives them
        assert [*block, third] == await db.stores.messages.list_since(two)
        assert [m.seq for m in (first, second)] == [1, 2]
        assert [m.seq for m in (*block, third)] == [1, 2, 3]
        assert first.tool_calls == [{"id": "c1"}]
        assert first.posted_at == posted
        assert (await db.stores.conversations.get(two)).last_seq == 3

    async def test_the_outbox_is_what_is_not_posted_yet_oldest_first(self, db: Database) -> None:
        one, two = await conversation_id(db, "one"), await conversation_id(db, "two")
        a = await db.stores.messages.append(one, NewMessage(role="user", content="a"))
        b = await db.stores.messages.append(two, NewMessage(role="user", content="b"))
        c = await db.stores.messages.append(one, NewMessage(role="user", content="c"))
        assert [m.id for m in await db.stores.messages.outbox()] == [a.id, b.id, c.id]
        assert await db.stores.messages.mark_posted(b.id, "1700000001.000200") is True
        assert await db.stores.messages.mark_posted(b.id, "again") is False  # posting twice is refused
        assert [m.id for m in await db.stores.messages.outbox()] == [a.id, c.id]
        assert [m.id for m in await db.stores.messages.outbox(conversation_id=one, limit=1)] == [a.id]
        [posted] = [m for m in await db.stores.messages.list_since(two)]
        assert posted.platform_message_id == "1700000001.000200"
        assert posted.posted_at is not None


class TestEvents:
    async def test_an_event_is_claimed_once(self, db: Database) -> None:
        assert await db.stores.events.claim("slack", "Ev1") is True
        assert await db.stores.events.claim("slack", "Ev1") is False
        assert await db.stores.events.claim("discord", "Ev1") is True

    async def test_concurrent_claims_of_one_key_have_one_winner(self, db: Database) -> None:
        results = await asyncio.gather(*(db.stores.events.claim("slack", "same") for _ in range(20)))
        assert results.count(True) == 1

    async def test_old_keys_are_purged(self, db: Database, clock: FakeClock) -> None:
        await db.stores.events.claim("slack", "old")
        clock.advance(hours=2)
        await db.stores.events.claim("slack", "new")
        assert await db.stores.events.purge(dt.timedelta(hours=1)) == 1
        assert await db.stores.events.claim("slack", "old") is True
        assert await db.stores.events.claim("slack", "new") is False


class TestWaits:
    async def test_the_first_answer_wins_and_the_second_is_told_who_answered(
        self, db: Database, clock: FakeClock
    ) -> None:
        cid = await conversation_id(db)
        wait = await db.stores.waits.open(
            cid,
            kind="approval",
            agent="executor",
            prompt="Run this code?",
            choices=["Approve", "Reject"],
            allowed_answerers=["U1", "U2"],
            expires_at=clock.now + dt.timedelta(minutes=10),
        )
        assert wait.is_open
        assert [w.id for w in await db.stores.waits.open_waits(cid)] == [wait.id]
        answered = await db.stores.waits.answer(wait.id, "Approve", "U1")
        assert (answered.answer, answered.answered_by, answered.is_open) == ("Approve", "U1", False)
        with pytest.raises(ConflictError, match="already answered by U1"):
            await db.stores.waits.answer(wait.id, "Reject", "U2")
        assert await db.stores.waits.open_waits() == []
        with pytest.raises(NotFoundError):
            await db.stores.waits.answer(98765, "x", "U1")

    async def test_expired_waits(self, db: Database, clock: FakeClock) -> None:
        cid = await conversation_id(db)
        soon = await db.stores.waits.open(
            cid, kind="human_input", agent="user", prompt="?", expires_at=clock.now + dt.timedelta(minutes=1)
        )
        await db.stores.waits.open(cid, kind="human_input", agent="user", prompt="no expiry")
        assert await db.stores.waits.expired() == []
        clock.advance(minutes=2)
        assert [w.id for w in await db.stores.waits.expired()] == [soon.id]


class TestSchedules:
    async def test_add_list_run_and_remove(self, db: Database, clock: FakeClock) -> None:
        fields = {
            "team": "dev",
            "platform": "slack",
            "workspace_id": "T1",
            "channel_id": "C1",
            "cron": "0 9 * * 1-5",
            "message": "Standup summary",
        }
        added = await db.stores.schedules.add("standup", **fields)
        assert (added.enabled, added.last_run_at) == (True, None)
        with pytest.raises(ConflictError, match="'standup' exists already"):
            await db.stores.schedules.add("standup", **fields)
        await db.stores.schedules.add("weekly", **{**fields, "cron": "0 9 * * 1"})
        await db.stores.schedules.set_enabled("weekly", False)
        assert [s.name for s in await db.stores.schedules.list(enabled_only=True)] == ["standup"]
        await db.stores.schedules.mark_run("standup")
        assert (await db.stores.schedules.get("standup")).last_run_at == clock.now
        await db.stores.schedules.remove("weekly")
        with pytest.raises(NotFoundError, match="no schedule named 'weekly'"):
            await db.stores.schedules.get("weekly")


class TestCacheAndUsage:
    async def test_the_response_cache_stores_and_replaces(self, db: Database) -> None:
        assert await db.stores.llm_cache.get("k") is None
        await db.stores.llm_cache.set("k", {"message": {"role": "assistant", "content": "one"}})
        await db.stores.llm_cache.set("k", {"message": {"role": "assistant", "content": "two"}})
        assert await db.stores.llm_cache.get("k") == {"message": {"role": "assistant", "content": "two"}}

    async def test_usage_totals_per_model_and_on_the_conversation(self, db: Database) -> None:
        cid = await conversation_id(db)
        usage = db.stores.usage
        await usage.record(
            "gpt-4o", prompt_tokens=100, completion_tokens=10, cost=0.5, cached=False, conversation_id=cid
        )
        await usage.record(
            "gpt-4o", prompt_tokens=100, completion_tokens=10, cost=0.5, cached=True, conversation_id=cid
        )
        await usage.record("gpt-4o-mini", prompt_tokens=7, completion_tokens=3, cost=0.01, cached=False)
        totals = await usage.totals()
        assert (totals["gpt-4o"].prompt_tokens, totals["gpt-4o"].calls, totals["gpt-4o"].cached_calls) == (100, 2, 1)
        assert totals["gpt-4o-mini"].cost == pytest.approx(0.01)
        assert set(await usage.totals(conversation_id=cid)) == {"gpt-4o"}
        conversation = await db.stores.conversations.get(cid)
        assert (conversation.prompt_tokens, conversation.completion_tokens) == (100, 10)
        assert conversation.cost == pytest.approx(0.5)


async def test_slack_installations_live_in_the_same_database(db: Database) -> None:
    store = slack_installation_store(db.engine, client_id="111.222")
    await store.async_save(
        Installation(
            app_id="A1",
            team_id="T1",
            bot_token="xoxb-test-not-real",
            bot_id="B1",
            bot_user_id="UB1",
            user_id="U1",
            installed_at=1_700_000_000.0,
        )
    )
    bot = await store.async_find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None
    assert (bot.bot_token, bot.bot_user_id) == ("xoxb-test-not-real", "UB1")
    assert await store.async_find_bot(enterprise_id=None, team_id="T2") is None


async def test_naive_datetimes_are_refused(db: Database) -> None:
    cid = await conversation_id(db)
    with pytest.raises(Exception, match="naive datetime"):
        await db.stores.messages.mark_posted(cid, "x", posted_at=dt.datetime(2026, 1, 1))


class TestSteps:
    async def test_a_step_stores_its_messages_and_the_state_together(self, db: Database, clock: FakeClock) -> None:
        cid = await conversation_id(db)
        record, stored = await db.stores.conversations.save_step(
            cid,
            {"round": 1},
            expected_version=0,
            status="running",
            messages=[
                NewMessage(
                    role="user",
                    content="from a person",
                    author_kind="human",
                    author_id="U1",
                    platform_message_id="1700.1",
                    posted_at=clock.now,
                ),
                NewMessage(role="assistant", content="from an agent", name="coder"),
            ],
        )
        assert (record.version, record.status, record.state, record.last_seq) == (1, "running", {"round": 1}, 2)
        assert [m.seq for m in stored] == [1, 2]
        # The person's message is in the thread already: only the agent's waits to be posted.
        assert [m.content for m in await db.stores.messages.outbox()] == ["from an agent"]

    async def test_a_stale_step_stores_nothing(self, db: Database) -> None:
        cid = await conversation_id(db)
        await db.stores.conversations.save_state(cid, {"by": "someone else"}, expected_version=0)
        with pytest.raises(ConflictError):
            await db.stores.conversations.save_step(
                cid, {"round": 1}, expected_version=0, messages=[NewMessage(role="assistant", content="lost")]
            )
        assert await db.stores.messages.list_since(cid) == []
        assert (await db.stores.conversations.get(cid)).last_seq == 0

    async def test_a_step_adds_its_usage_to_the_log_and_to_the_conversation(self, db: Database) -> None:
        cid = await conversation_id(db)
        record, _ = await db.stores.conversations.save_step(
            cid,
            {"round": 1},
            expected_version=0,
            usage=[NewUsage("gpt-4o-mini", 100, 20, 0.5), NewUsage("gpt-4o", 7, 3, 0.25, cached=True)],
        )
        assert (record.prompt_tokens, record.completion_tokens, record.cost) == (100, 20, 0.5)  # the cache is free
        totals = await db.stores.usage.totals(conversation_id=cid)
        assert totals["gpt-4o-mini"].calls == 1
        assert totals["gpt-4o"].cached_calls == 1
        record, _ = await db.stores.conversations.save_step(
            cid, {"round": 2}, expected_version=1, usage=[NewUsage("gpt-4o-mini", 1, 1, 0.125)]
        )
        assert (record.prompt_tokens, record.cost) == (101, 0.625)
        assert (await db.stores.conversations.get(cid)).state == {"round": 2}


class TestGroupCommit:
    async def test_writes_queued_together_succeed_or_fail_each_on_its_own(self, db: Database) -> None:
        ids = [await conversation_id(db, f"t{i}") for i in range(6)]
        steps = [
            db.stores.conversations.save_step(
                cid,
                {"n": i},
                expected_version=0 if i != 3 else 7,  # the fourth is stale
                messages=[NewMessage(role="assistant", content=f"message {i}")],
            )
            for i, cid in enumerate(ids)
        ]
        results = await asyncio.gather(*steps, db.stores.events.claim("slack", "E1"), return_exceptions=True)
        assert isinstance(results[3], ConflictError)
        assert results[-1] is True
        for i, cid in enumerate(ids):
            stored = [m.content for m in await db.stores.messages.list_since(cid)]
            assert stored == ([] if i == 3 else [f"message {i}"])

    async def test_many_messages_are_marked_posted_at_once(self, db: Database) -> None:
        cid = await conversation_id(db)
        stored = await db.stores.messages.append_many(
            cid, [NewMessage(role="assistant", content=str(i)) for i in range(3)]
        )
        await db.stores.messages.mark_posted_many([(stored[0].id, "p0"), (stored[2].id, "p2")])
        await db.stores.messages.mark_posted_many([(stored[0].id, "again")])  # already posted: kept
        found = {m.content: m.platform_message_id for m in await db.stores.messages.list_since(cid)}
        assert found == {"0": "p0", "1": None, "2": "p2"}
        assert [m.content for m in await db.stores.messages.outbox()] == ["1"]

    async def test_claiming_several_keys_of_one_event_wins_only_if_all_are_new(self, db: Database) -> None:
        assert await db.stores.events.claim("slack", "event:1", "message:C1:1") is True
        assert await db.stores.events.claim("slack", "event:2", "message:C1:1") is False  # same message again
        assert await db.stores.events.claim("slack", "event:2") is False  # claimed by the attempt above
        assert await db.stores.events.claim("slack", "event:3", "message:C1:3") is True

    async def test_a_reader_in_a_transaction_does_not_hold_writers_back(self, db: Database) -> None:
        cid = await conversation_id(db)
        async with db.connect() as reader:
            await reader.execute(select(func.count()).select_from(messages))  # its transaction is open
            await db.stores.conversations.save_step(
                cid, {"n": 1}, expected_version=0, messages=[NewMessage(role="assistant", content="written")]
            )
            await db.stores.messages.append(cid, NewMessage(role="assistant", content="and this"))
        assert [m.content for m in await db.stores.messages.list_since(cid)] == ["written", "and this"]


class TestInbox:
    async def test_an_accepted_event_waits_in_the_inbox_until_handled(self, db: Database) -> None:
        first = await db.stores.events.accept("slack", ["event:1", "message:C1:1"], {"text": "hi"})
        second = await db.stores.events.accept("slack", ["event:2"], {"text": "there"})
        assert await db.stores.events.accept("slack", ["event:3", "message:C1:1"], {"text": "hi"}) is None
        await db.stores.events.accept("discord", ["event:1"], {"text": "elsewhere"})
        assert first is not None
        assert second is not None
        assert await db.stores.events.pending("slack") == [(first, {"text": "hi"}), (second, {"text": "there"})]
        await db.stores.events.handled([first])
        assert [i for i, _ in await db.stores.events.pending("slack")] == [second]

    async def test_an_accepted_events_keys_are_dated_and_purged_like_claimed_ones(
        self, db: Database, clock: FakeClock
    ) -> None:
        # On a SQLite file, accept writes through the bare driver: what it stores reads back the same.
        kept = await db.stores.events.accept("slack", ["event:old", "message:C1:1"], {"text": "hi"}, thread="T1:C1:1")
        clock.advance(hours=2)
        await db.stores.events.claim("slack", "new")
        assert await db.stores.events.pending("slack", thread="T1:C1:1") == [(kept, {"text": "hi"})]
        assert await db.stores.events.purge(dt.timedelta(hours=1)) == 2
        assert await db.stores.events.claim("slack", "event:old", "message:C1:1") is True
        assert await db.stores.events.claim("slack", "new") is False

    async def test_a_step_takes_the_event_it_handled_out_of_the_inbox(self, db: Database) -> None:
        cid = await conversation_id(db)
        accepted = await db.stores.events.accept("slack", ["event:9"], {"text": "go on"})
        assert accepted is not None
        with pytest.raises(ConflictError):  # a step that is not stored leaves the event waiting
            await db.stores.conversations.save_step(cid, {"n": 1}, expected_version=5, handled=[accepted])
        assert len(await db.stores.events.pending("slack")) == 1
        await db.stores.conversations.save_step(cid, {"n": 1}, expected_version=0, handled=[accepted])
        assert await db.stores.events.pending("slack") == []

    async def test_a_step_whose_event_was_handled_elsewhere_stores_nothing(self, db: Database) -> None:
        cid = await conversation_id(db)
        accepted = await db.stores.events.accept("slack", ["event:9"], {"text": "go on"})
        assert accepted is not None
        await db.stores.events.handled([accepted])  # another worker handled it (and ended)
        with pytest.raises(HandledElsewhereError, match="handled already"):
            await db.stores.conversations.save_step(
                cid,
                {"n": 1},
                expected_version=0,
                messages=[NewMessage(role="assistant", content="once more")],
                handled=[accepted],
            )
        record = await db.stores.conversations.get(cid)
        assert (record.version, record.state, record.last_seq) == (0, None, 0)
        assert await db.stores.messages.list_since(cid) == []


class TestPlatformState:
    async def test_a_value_is_kept_replaced_and_forgotten_per_platform(self, db: Database) -> None:
        state = db.stores.platform_state
        assert await state.get("discord", "webhook:C1") is None
        await state.put("discord", "webhook:C1", {"id": "1", "token": "t"})
        await state.put("slack", "webhook:C1", {"other": True})
        await state.put("discord", "webhook:C1", {"id": "2", "token": "u"})
        assert await state.get("discord", "webhook:C1") == {"id": "2", "token": "u"}
        assert await state.get("slack", "webhook:C1") == {"other": True}
        await state.delete("discord", "webhook:C1")
        assert await state.get("discord", "webhook:C1") is None
        assert await state.get("slack", "webhook:C1") == {"other": True}

    async def test_a_platforms_keys_are_listed_by_prefix_in_key_order(self, db: Database) -> None:
        state = db.stores.platform_state
        for key in ("post:000000000002", "post:000000000001", "post_x", "postal", "other"):
            await state.put("web", key, {"key": key})
        await state.put("slack", "post:000000000003", {})
        assert [k for k, _ in await state.items("web", "post:")] == ["post:000000000001", "post:000000000002"]
        assert [k for k, _ in await state.items("web", "post_")] == ["post_x"]  # "_" is no wildcard
        assert await state.items("web", "post:000000000001") == [("post:000000000001", {"key": "post:000000000001"})]
        assert len(await state.items("web")) == 5


async def test_the_migration_marks_open_waits_reminded_whose_reminder_key_is_kept(tmp_path: Path) -> None:
    async with Database(f"sqlite:///{tmp_path / 'old.db'}") as db:
        await upgrade(db, "0010_queue_no_leases")
        async with db.begin() as conn:  # the tables as they were: the stores read the newest
            await conn.exec_driver_sql(
                "INSERT INTO conversations (id, platform, workspace_id, channel_id, thread_id, team, status,"
                " created_at, updated_at) VALUES (1, 'memory', 'W1', 'C1', 't1', 'dev', 'waiting',"
                " '2026-03-02 09:00:00', '2026-03-02 09:00:00')"
            )
            for wait_id in (1, 2):
                await conn.exec_driver_sql(
                    "INSERT INTO waits (id, conversation_id, kind, agent, prompt, created_at)"
                    f" VALUES ({wait_id}, 1, 'question', 'user', '?', '2026-03-02 09:00:00')"
                )
            await conn.exec_driver_sql(
                "INSERT INTO processed_events (platform, event_key, created_at)"
                " VALUES ('memory', 'event:remind:1', '2026-03-02 09:15:00')"
            )
        await upgrade(db)
        reminded = {w.id: w.reminded_at for w in await db.stores.waits.open_waits()}
    assert reminded == {1: dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.UTC), 2: None}
