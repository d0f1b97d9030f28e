"""The web thread's platform keeps its posts in its store: posts, edits, finished streams, people's
words and files; a new instance on the same store shows them and numbers new posts after them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from adapters import Attachment, Author, Button, OutboundMessage, Persona, ThreadEvent
from adapters.web import WebThreadPlatform


class DictStore:
    """A PostStore in a dict (the bot's is the ``platform_state`` table)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    async def put(self, key: str, value: Any) -> None:
        self.values[key] = value

    async def delete(self, key: str) -> None:
        self.values.pop(key, None)

    async def items(self, prefix: str = "") -> list[tuple[str, Any]]:
        return sorted((k, v) for k, v in self.values.items() if k.startswith(prefix))


CODER = Persona("coder", "Coder", icon_emoji=":computer:")


async def test_posts_edits_and_finished_streams_are_kept_and_restored() -> None:
    store = DictStore()
    first = WebThreadPlatform(store)
    events: list[ThreadEvent] = []
    running = asyncio.create_task(first.run(_collect(events)))
    thread = await first.start(Author("u1", "Ada"), "draw", (Attachment("a.txt", "text/plain", b"hi"),))
    await first.close()
    await running
    assert [e.message_id for e in events] == [first.in_thread(thread.thread_id)[0].id]
    asked = await first.post(thread, OutboundMessage(CODER, "run it?", key="tc-1", buttons=(Button("Go", "go", "1"),)))
    await first.update(thread, asked, OutboundMessage(CODER, "run it?\n\nApproved by Ada.", key="tc-1"))
    stream = await first.start_stream(thread, CODER)
    assert stream is not None
    await stream.append("half a rep")
    assert len(store.values) == 2  # the preview is shown, not kept
    await stream.finish(OutboundMessage(CODER, "the whole reply", key="tc-2"))
    dropped = await first.start_stream(thread, CODER)
    assert dropped is not None
    await dropped.append("abandoned")
    await dropped.abandon()
    assert len(store.values) == 3

    again = WebThreadPlatform(store)
    await again.restore()
    posts = again.in_thread(thread.thread_id)
    assert [(p.author, p.text) for p in posts] == [
        ("person", "draw"),
        ("coder", "run it?\n\nApproved by Ada."),
        ("coder", "the whole reply"),
    ]
    assert posts[0].message.persona.display_name == "Ada"
    assert posts[0].message.attachments == (Attachment("a.txt", "text/plain", b"hi"),)
    assert posts[1].message.key == "tc-1"
    assert posts[1].message.persona == CODER
    assert await again.find_posted(thread, "tc-2") == posts[2].id
    new = await again.post(thread, OutboundMessage(CODER, "after the restart"))
    assert new not in {p.id for p in posts}
    assert [p.text for p in again.in_thread(thread.thread_id)][-1] == "after the restart"
    assert [p.text for p in (await _restored(store)).in_thread(thread.thread_id)][-1] == "after the restart"


def _collect(events: list[ThreadEvent]) -> Callable[[ThreadEvent], Awaitable[None]]:
    async def handle(event: ThreadEvent) -> None:
        events.append(event)

    return handle


async def _restored(store: DictStore) -> WebThreadPlatform:
    platform = WebThreadPlatform(store)
    await platform.restore()
    return platform
