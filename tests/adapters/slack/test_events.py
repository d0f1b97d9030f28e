"""Slack payloads (recorded in the shapes Slack documents, tests/adapters/slack/payloads/) as thread events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from adapters import ThreadRef
from adapters.slack.events import action_event, command_event, message_event

PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def from_callback(name: str, bot_user_id: str = "U0LAN0Z89") -> Any:
    body = payload(name)
    return message_event(
        body["event"], team_id=body["team_id"], event_id=body["event_id"], bot_user_id=bot_user_id, display_name="n"
    )


def test_an_app_mention_starts_a_thread_at_its_own_ts_without_the_bots_mention() -> None:
    event = from_callback("app_mention")
    assert event.kind == "mention"
    assert event.thread == ThreadRef("slack", "T061EG9R6", "C0LAN2Q65", "1515449522.000016")
    assert event.text == "is it everything a river should be? <@U061F7AUR> thinks so"  # others' mentions stay
    assert (event.event_key, event.message_id, event.author.id) == ("Ev0LAN670R", "1515449522.000016", "U061F7AUR")


def test_a_thread_reply_is_a_message_of_the_thread_it_replies_in() -> None:
    event = from_callback("message_thread_reply")
    assert (event.kind, event.thread.thread_id, event.message_id) == (
        "message",
        "1355517500.000001",
        "1355517523.000005",
    )
    assert event.text == "Live long and prospect."


def test_a_reply_that_mentions_the_bot_is_a_mention_so_either_delivery_of_it_is_the_same_event() -> None:
    event = from_callback("message_thread_reply", bot_user_id="U2147483697")  # not the bot: a message
    assert event.kind == "message"
    body = payload("message_thread_reply")
    body["event"]["text"] = "<@U0LAN0Z89> go on"
    mentioned = message_event(
        body["event"], team_id="T061EG9R6", event_id="Ev1", bot_user_id="U0LAN0Z89", display_name="n"
    )
    assert (mentioned.kind, mentioned.text, mentioned.message_id) == ("mention", "go on", "1355517523.000005")


def test_an_edit_is_not_people_talking() -> None:
    assert from_callback("message_changed") is None


def test_a_button_press_names_its_thread_its_message_and_what_was_pressed() -> None:
    event = action_event(payload("block_actions"), display_name="Jack")
    assert event is not None
    assert event.kind == "button"
    assert event.thread == ThreadRef("slack", "T9TK3CUKW", "CBR2V3XEX", "1548261200.000100")
    assert (event.action_id, event.value, event.ref_message_id) == ("approve", "approve", "1548261231.000200")
    assert (event.author.id, event.author.display_name) == ("UA8RXUSPL", "Jack")
    assert event.event_key == "action:1548426417.840180"


def test_a_press_on_another_apps_button_is_not_ours() -> None:
    body = payload("block_actions")
    body["actions"][0]["action_id"] = "someone-elses-button"
    assert action_event(body, display_name="Jack") is None


def test_a_slash_command_is_a_command_for_the_channel() -> None:
    event = command_event(payload("slash_command"), display_name="Steve")
    assert event.kind == "command"
    assert event.thread == ThreadRef("slack", "T0001", "C2147483705", "")
    assert (event.command, event.text) == ("stop", "1355517500.000001")
    assert event.event_key == "command:13345224609.738474920.8088930838d88f008e0"
