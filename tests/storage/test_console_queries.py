"""The web console's queries, on SQLite and on PostgreSQL: conversations narrowed by platform,
team, status and time; every wait of a conversation; usage by team, model and day."""

from __future__ import annotations

import datetime as dt

import pytest

from storage import Database
from tests.storage.conftest import FakeClock


async def test_the_listing_narrows_by_platform_team_status_and_time(db: Database, clock: FakeClock) -> None:
    stores = db.stores.conversations
    old = await stores.get_or_create("slack", "T1", "C1", "1.0", team="dev", status="finished")
    clock.advance(hours=2)
    run = await stores.get_or_create("slack", "T1", "C1", "2.0", team="ops", status="running")
    chat = await stores.get_or_create("memory", "W1", "C1", "t1", team="dev", status="waiting")

    def ids(found: list) -> list[int]:
        return [c.id for c in found]

    assert ids(await stores.listing()) == [chat.id, run.id, old.id]  # changed last first
    assert ids(await stores.listing(platform="slack")) == [run.id, old.id]
    assert ids(await stores.listing(team="dev")) == [chat.id, old.id]
    assert ids(await stores.listing(statuses=["running", "waiting"])) == [chat.id, run.id]
    assert ids(await stores.listing(updated_after=clock() - dt.timedelta(hours=1))) == [chat.id, run.id]
    assert ids(await stores.listing(platform="slack", team="dev", statuses=["finished"])) == [old.id]
    assert ids(await stores.listing(limit=1)) == [chat.id]


async def test_a_conversations_waits_answered_or_not(db: Database) -> None:
    one = await db.stores.conversations.get_or_create("memory", "W1", "C1", "t1", team="dev")
    other = await db.stores.conversations.get_or_create("memory", "W1", "C1", "t2", team="dev")
    waits = db.stores.waits
    first = await waits.open(one.id, kind="approval", agent="runner", prompt="run it?")
    await waits.open(other.id, kind="question", agent="user", prompt="ok?")
    await waits.answer(first.id, "approve", "console:ops")
    second = await waits.open(one.id, kind="question", agent="user", prompt="more?")
    found = await waits.of_conversation(one.id)
    assert [(w.id, w.answer, w.answered_by) for w in found] == [
        (first.id, "approve", "console:ops"),
        (second.id, None, None),
    ]


async def test_usage_by_team_model_and_day(db: Database, clock: FakeClock) -> None:
    dev = await db.stores.conversations.get_or_create("memory", "W1", "C1", "t1", team="dev")
    ops = await db.stores.conversations.get_or_create("memory", "W1", "C1", "t2", team="ops")
    usage = db.stores.usage
    await usage.record(
        "gpt-4o", prompt_tokens=100, completion_tokens=10, cost=0.5, cached=False, conversation_id=dev.id
    )
    clock.advance(days=1)
    await usage.record("gpt-4o", prompt_tokens=50, completion_tokens=5, cost=0.25, cached=True, conversation_id=ops.id)
    await usage.record("mini", prompt_tokens=7, completion_tokens=3, cost=0.75, cached=False, conversation_id=ops.id)
    await usage.record("mini", prompt_tokens=1, completion_tokens=1, cost=0.0, cached=False)

    by_team = dict(await usage.breakdown("team"))
    assert list(by_team) == ["ops", "dev", "(no conversation)"]  # by cost
    assert (by_team["ops"].prompt_tokens, by_team["ops"].calls, by_team["ops"].cached_calls) == (7, 2, 1)
    assert by_team["dev"].cost == pytest.approx(0.5)
    by_model = dict(await usage.breakdown("model"))
    assert list(by_model) == ["mini", "gpt-4o"]
    assert by_model["gpt-4o"].prompt_tokens == 100  # the cached call reached no model
    by_day = await usage.breakdown("day")
    assert [day for day, _ in by_day] == ["2026-11-22", "2026-11-21"]
    assert by_day[0][1].calls == 3
    since = dict(await usage.breakdown("model", since=clock() - dt.timedelta(hours=1)))
    assert by_model["gpt-4o"].calls == 2
    assert since["gpt-4o"].calls == 1
    with pytest.raises(ValueError, match="choose team, model or day"):
        await usage.breakdown("week")
