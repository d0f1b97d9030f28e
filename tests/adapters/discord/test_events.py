"""Discord payloads (recorded-style JSON) as thread events, and messages in Discord-sized pieces."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from adapters import Button, OutboundMessage, Persona, ThreadRef
from adapters.discord import client_id_from_token, invite_url, slash_command, split_message
from adapters.discord.events import Place, button_event, command_event, message_event
from adapters.discord.render import custom_id, find_key, key_marker, message_pieces, thread_name, utf16_len
from adapters.errors import AdapterError

PAYLOADS = Path(__file__).parent / "payloads"
GUILD, CHANNEL, BOT = "1300000000000000100", "1300000000000000200", "1300000000000000900"
STARTER = "1312345678901234567"


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


def test_a_mention_in_a_channel_starts_the_thread_named_by_the_message() -> None:
    event = message_event(payload("message_create_mention.json"), Place(GUILD, CHANNEL), bot_user_id=BOT)
    assert event is not None
    assert event.kind == "mention"
    assert event.thread == ThreadRef("discord", GUILD, CHANNEL, STARTER)
    assert event.message_id == STARTER
    assert event.text == "chart the first ten squares"
    assert (event.author.id, event.author.display_name, event.author.roles) == (
        "1300000000000000301",
        "ali",
        ("1300000000000000400",),
    )
    assert not event.author.is_bot
    assert event.event_key == f"message:{STARTER}"


def test_a_webhook_post_is_a_bots_and_a_system_message_is_nothing() -> None:
    place = Place(GUILD, CHANNEL, STARTER)
    webhook = message_event(payload("message_create_webhook.json"), place, bot_user_id=BOT)
    assert webhook is not None
    assert webhook.author.is_bot  # the dispatcher drops it
    assert webhook.kind == "message"
    assert webhook.thread.thread_id == STARTER
    assert message_event(payload("message_create_thread_created.json"), Place(GUILD, CHANNEL), bot_user_id=BOT) is None


def test_a_button_press_names_the_action_the_value_and_its_message() -> None:
    event = button_event(payload("interaction_button.json"), Place(GUILD, CHANNEL, STARTER))
    assert event is not None
    assert (event.kind, event.action_id, event.value) == ("button", "approve", "w-17")
    assert event.ref_message_id == "1312345678901234611"
    assert event.thread == ThreadRef("discord", GUILD, CHANNEL, STARTER)
    assert (event.author.id, event.author.display_name) == ("1300000000000000302", "bob")
    other = {**payload("interaction_button.json"), "data": {"custom_id": "someone-elses:button"}}
    assert button_event(other, Place(GUILD, CHANNEL, STARTER)) is None


def test_the_slash_command_in_a_channel_has_no_thread_and_carries_its_arguments() -> None:
    event = command_event(payload("interaction_command.json"), Place(GUILD, CHANNEL))
    assert (event.kind, event.command, event.text) == ("command", "stop", STARTER)
    assert event.thread == ThreadRef("discord", GUILD, CHANNEL, "")
    assert event.author.display_name == "Carol"


def schedule_typed(action: str, *options: tuple[str, int, str]) -> Any:
    """``/threadcrew schedule ACTION`` as Discord sends it (a sub-command group), from the recorded command."""
    chosen = {"type": 1, "name": action, "options": [{"name": n, "type": t, "value": v} for n, t, v in options]}
    data = {
        **payload("interaction_command.json")["data"],
        "options": [{"type": 2, "name": "schedule", "options": [chosen]}],
    }
    return {**payload("interaction_command.json"), "data": data}


def test_the_schedule_group_becomes_the_schedule_command_in_the_words_people_type() -> None:
    added = command_event(
        schedule_typed(
            "add",
            ("when", 3, "every 30m"),
            ("name", 3, "digest"),
            ("message", 3, 'What\'s new? "all" of it'),
            ("channel", 7, "1300000000000000201"),
            ("team", 3, "crew"),
        ),
        Place(GUILD, CHANNEL),
    )
    assert (added.command, added.thread) == ("schedule", ThreadRef("discord", GUILD, CHANNEL, ""))
    # Each option stays one word, whatever it holds.
    assert shlex.split(added.text) == [
        "add", "every 30m", "team=crew", "digest", "1300000000000000201", "What's new? \"all\" of it"
    ]  # fmt: skip
    here = command_event(
        schedule_typed(
            "add", ("when", 3, "0 9 * * 1-5"), ("name", 3, "s"), ("message", 3, "hi"), ("timezone", 3, "Europe/Paris")
        ),
        Place(GUILD, CHANNEL),
    )
    assert shlex.split(here.text) == ["add", "0 9 * * 1-5", "tz=Europe/Paris", "s", "here", "hi"]
    assert command_event(schedule_typed("list"), Place(GUILD, CHANNEL)).text == "list"
    assert command_event(schedule_typed("pause", ("name", 3, "digest")), Place(GUILD, CHANNEL)).text == "pause digest"


def test_the_slash_command_registers_schedule_as_a_group_with_its_options() -> None:
    command = slash_command("threadcrew")
    options: Any = command["options"]
    [group] = [o for o in options if o["name"] == "schedule"]
    assert group["type"] == 2
    assert [a["name"] for a in group["options"]] == ["add", "list", "pause", "resume", "delete"]
    add = group["options"][0]["options"]
    assert [(o["name"], o.get("required", False)) for o in add] == [
        ("when", True), ("name", True), ("message", True), ("channel", False), ("timezone", False), ("team", False)
    ]  # fmt: skip
    assert add[3]["type"] == 7  # a channel picker
    assert all(len(o["description"]) <= 100 for action in group["options"] for o in [action, *action["options"]])


def test_custom_ids_round_trip_and_refuse_what_does_not_fit() -> None:
    from adapters.discord.render import parse_custom_id

    assert parse_custom_id(custom_id(Button("Approve", "approve", "w:17"))) == ("approve", "w:17")
    with pytest.raises(ValueError, match="100 characters"):
        custom_id(Button("Choose", "choose", "x" * 100))


def test_the_hidden_key_survives_and_stays_out_of_sight() -> None:
    marker = key_marker("tc-1234")
    assert find_key("Plan: bars." + marker) == "tc-1234"
    assert find_key("Plan: bars.") is None
    assert marker.strip("\u200b\u200c\u2060\u2062\u2063") == ""  # nothing one can see
    [piece] = message_pieces(OutboundMessage(Persona("p"), "hello", key="tc-9"), personas=True)
    assert piece.startswith("hello")
    assert find_key(piece) == "tc-9"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("<@1300000000000000900> **chart** the squares\nmore", "chart the squares"),
        ("", "threadcrew"),
        ("x" * 300, "x" * 99 + "…"),
    ],
)
def test_thread_names_are_1_to_100_characters_of_the_first_line(text: str, name: str) -> None:
    assert thread_name(text) == name
    assert 1 <= len(thread_name(text)) <= 100


# -- splitting at Discord's 2,000 characters ---------------------------------------------------------------


def _fences_balanced(piece: str) -> bool:
    return piece.count("```") % 2 == 0


def test_a_long_code_block_is_closed_and_reopened_in_every_piece() -> None:
    code = "\n".join(f"print('line {i}')  # {'x' * 40}" for i in range(200))
    pieces = split_message(f"The code:\n```python\n{code}\n```\nThat is all.")
    assert len(pieces) > 3
    assert all(utf16_len(p) <= 2000 and _fences_balanced(p) for p in pieces)
    assert all(p.startswith("```python\n") for p in pieces[1:])
    assert pieces[-1].endswith("That is all.")


def test_a_4000_character_word_is_cut_within_the_limit_and_kept_whole() -> None:
    word = "".join(chr(ord("a") + i % 26) for i in range(4000))
    pieces = split_message(f"start {word} end")
    assert all(utf16_len(p) <= 2000 for p in pieces)
    assert "".join(pieces).replace("\n", "") == f"start {word} end"


def test_emoji_count_two_and_are_never_cut_apart() -> None:
    family = "👩\u200d👩\u200d👧\u200d👦"  # one emoji of seven code points, eleven UTF-16 units
    thumbs = "👍🏽"  # a thumb and its skin tone
    text = (family + thumbs) * 400
    pieces = split_message(text)
    assert len(text) <= 4000 < utf16_len(text)  # code points would fit two messages; UTF-16 units do not
    assert all(utf16_len(p) <= 2000 for p in pieces)
    assert "".join(pieces) == text
    for piece in pieces:
        assert piece.startswith("👩")
        assert piece.endswith("🏽")


def test_long_lines_and_paragraphs_keep_every_line() -> None:
    text = "\n\n".join(f"Paragraph {i}: " + "word " * 120 for i in range(12))
    pieces = split_message(text)
    assert all(utf16_len(p) <= 2000 for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_without_a_webhook_the_name_goes_in_bold_and_a_file_too_large_gets_a_note() -> None:
    from adapters import Attachment
    from adapters.discord.render import within_upload_limit

    kept, notes = within_upload_limit(
        (Attachment("big.png", "image/png", b"0" * 2000), Attachment("s.png", "image/png", b"1")), 1000
    )
    assert [f.name for f in kept] == ["s.png"]
    [piece] = message_pieces(OutboundMessage(Persona("coder"), "Done."), personas=False, notes=notes)
    assert piece.startswith("**coder:** Done.\n\n_big.png is too large to attach here")


def test_the_invite_link_asks_for_exactly_the_permissions_and_the_command_scope() -> None:
    url = invite_url("123456789012345678")
    assert "client_id=123456789012345678" in url
    # send messages, attach files, read message history, manage webhooks, create public threads,
    # send messages in threads: Discord's permission bits 11, 15, 16, 29, 35 and 38
    assert f"permissions={sum(1 << bit for bit in (11, 15, 16, 29, 35, 38))}" in url
    assert "scope=bot+applications.commands" in url
    assert client_id_from_token("MTIzNDU2Nzg5MDEyMzQ1Njc4.GxYz.not-real") == "123456789012345678"
    with pytest.raises(AdapterError, match="not a Discord bot token"):
        client_id_from_token("xoxb-1")
