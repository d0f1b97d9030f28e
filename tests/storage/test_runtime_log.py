"""The runtime log's store, on SQLite and PostgreSQL."""

from __future__ import annotations

from storage import Database, NewRuntimeLog
from tests.storage.conftest import FakeClock


async def test_records_come_back_by_conversation_in_order_and_by_kind(db: Database, clock: FakeClock) -> None:
    stores = db.stores
    first = (await stores.conversations.get_or_create("slack", "T1", "C1", "1.1", team="dev")).id
    other = (await stores.conversations.get_or_create("slack", "T1", "C1", "2.2", team="dev")).id
    call = {"args": {"a": 2}, "returns": 3, "timestamp": "2026-11-21T12:00:00+00:00"}

    def entry(kind: str, conversation: int | None, name: str | None = None) -> NewRuntimeLog:
        clock.advance(seconds=1)
        return NewRuntimeLog("s1", kind, {"n": kind, **call}, clock.now, conversation, "coder", name)

    await stores.runtime_log.add([entry("chat_completions", first), entry("agents", None)])
    await stores.runtime_log.add([entry("function_calls", first, "add"), entry("function_calls", other, "sub")])
    await stores.runtime_log.add([])

    found = await stores.runtime_log.for_conversation(first)
    assert [(r.kind, r.name, r.conversation_id) for r in found] == [
        ("chat_completions", None, first),
        ("function_calls", "add", first),
    ]
    assert found[1].record == {"n": "function_calls", **call}  # JSON in, the same JSON out
    assert found[1].source_name == "coder"
    assert found[1].session_id == "s1"
    assert found[1].created_at > found[0].created_at
    assert found[1].created_at.tzinfo is not None
    tools = await stores.runtime_log.for_conversation(other, kinds=["function_calls"])
    assert [r.name for r in tools] == ["sub"]
    assert await stores.runtime_log.for_conversation(first, kinds=["events"]) == []
    assert await stores.runtime_log.for_conversation(first, after_id=found[0].id) == found[1:]
