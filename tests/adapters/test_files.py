"""Which attached files come with a message: images within the limits, fetched; the rest named."""

from __future__ import annotations

import json

from adapters import Attachment, Author, SkippedFile, ThreadEvent, ThreadRef
from adapters.files import Offered, fetch_images

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 40


async def test_images_within_the_limits_are_fetched_and_every_other_file_is_named_with_why() -> None:
    store = {"a": PNG, "b": PNG, "c": PNG, "gone": None, "liar": PNG * 10, "big": PNG, "doc": b"%PDF"}
    asked: list[str] = []

    async def fetch(handle: str) -> bytes | None:
        asked.append(handle)
        return store[handle]

    offered = [
        Offered("report.pdf", "application/pdf", 4, "doc"),
        Offered("a.png", "image/png", len(PNG), "a"),
        Offered("huge.png", "image/png", 10_000, "big"),
        Offered("gone.png", "image/png", len(PNG), "gone"),
        Offered("liar.png", "image/png; charset=x", 10, "liar"),
        Offered("b.png", "IMAGE/PNG", len(PNG), "b"),
        Offered("c.png", "image/png", len(PNG), "c"),
    ]
    images, skipped = await fetch_images(offered, fetch, max_bytes=100, max_count=2)

    assert images == (Attachment("a.png", "image/png", PNG), Attachment("b.png", "image/png", PNG))
    assert [(s.name, s.reason) for s in skipped] == [
        ("report.pdf", "not_image"),
        ("huge.png", "too_large"),
        ("gone.png", "unreadable"),
        ("liar.png", "too_large"),  # said 10 bytes, sent more
        ("c.png", "too_many"),
    ]
    assert asked == ["a", "gone", "liar", "b"]  # nothing too large, too many or not an image is fetched


def test_an_event_with_images_and_skipped_files_survives_json() -> None:
    event = ThreadEvent(
        "message",
        ThreadRef("discord", "1", "2", "3"),
        Author("u1", "alice"),
        "message:9",
        text="look",
        attachments=(Attachment("a.png", "image/png", PNG),),
        skipped=(SkippedFile("notes.txt", "text/plain", 12, "not_image"),),
    )
    assert ThreadEvent.from_json(json.loads(json.dumps(event.to_json()))) == event
