"""What a person's message with files says to the team, and what the thread is told about the rest."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml

from adapters import Attachment, Author, SkippedFile, ThreadEvent, ThreadRef
from bot.attachments import image_type, left_out, people_said
from bot.teams import Team, TeamCatalog
from tests.bot.crew import team_config

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 20
GIF = b"GIF89a" + b"\x00" * 20
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 20
HEIC = b"\x00\x00\x00\x18ftypheic" + b"\x00" * 20


def said(text: str = "", *files: Attachment, skipped: tuple[SkippedFile, ...] = ()) -> ThreadEvent:
    thread = ThreadRef("discord", "1", "2", "3")
    return ThreadEvent("message", thread, Author("u1", "alice"), "k", text=text, attachments=files, skipped=skipped)


def team(tmp_path: Path, *, vision: bool | None) -> Team:
    """The crew, its model with ``vision`` (None: the team file does not say)."""
    config = team_config("http://127.0.0.1:9/v1")
    if vision is not None:
        config["models"]["default"]["vision"] = vision
    tmp_path.mkdir(parents=True)
    file = tmp_path / "team.yaml"
    file.write_text(yaml.safe_dump(config))
    catalog = TeamCatalog()
    catalog.add_file(file, default=True)
    return catalog.build(None, tmp_path / "work")


def test_a_message_without_files_says_its_words() -> None:
    assert people_said(said("  just words ")) == "just words"


def test_each_image_is_named_then_given_as_a_data_uri_of_the_type_its_bytes_show() -> None:
    parts: Any = people_said(said("look", Attachment("photo.png", "image/png", JPEG)))  # a JPEG named .png
    assert parts[:2] == [{"type": "text", "text": "look"}, {"type": "text", "text": "[image photo.png]"}]
    url = parts[2]["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == JPEG
    assert [image_type(data) for data in (PNG, JPEG, GIF, WEBP, HEIC, b"")] == [
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        None,
        None,
    ]


def test_files_that_do_not_go_as_images_are_named_in_the_content_with_why() -> None:
    skipped = (
        SkippedFile("report.pdf", "application/pdf", 10, "not_image"),
        SkippedFile("huge.png", "image/png", 30 * 1024 * 1024, "too_large"),
        SkippedFile("fifth.png", "image/png", 10, "too_many"),
        SkippedFile("lost.png", "image/png", 10, "unreadable"),
    )
    parts: Any = people_said(said("", Attachment("photo.heic", "image/heic", HEIC), skipped=skipped))
    assert [p["text"] for p in parts] == [  # no words: no empty text part; no image part for HEIC
        "[photo.heic attached; not a PNG, JPEG, GIF or WebP image]",
        "[report.pdf attached; only images reach the team]",
        "[huge.png attached; larger than the images passed on]",
        "[fifth.png attached; more images than one message passes on]",
        "[lost.png attached; the platform would not hand it over]",
    ]


async def test_the_thread_hears_what_the_team_will_not_see(tmp_path: Path) -> None:
    seeing, blind = team(tmp_path / "a", vision=True), team(tmp_path / "b", vision=None)  # off unless said
    image = Attachment("chart.png", "image/png", PNG)
    big = SkippedFile("huge.png", "image/png", 30 * 1024 * 1024, "too_large")
    try:
        assert (seeing.sees_images, blind.sees_images) == (True, False)
        assert left_out(said("look", image), seeing) == []  # all seen: nothing to say
        [note] = left_out(said("look", image, skipped=(big,)), blind)
    finally:
        await seeing.close()
        await blind.close()
    assert note.author_kind == "system"
    assert note.content == (
        "The team does not see every file you attached:\n"
        "- huge.png: larger than the images passed on (30.0 MB)\n"
        "- chart.png: none of this team's models can see images (see vision: in the team file)"
    )
