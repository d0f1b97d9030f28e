from __future__ import annotations

import json

import pytest

from agents import ImagePart, InvalidMessageError, Message, TextPart, ToolCall, ToolResponse, content_str


def test_autogen_dict_round_trips_through_message() -> None:
    data = {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1}'}}],
    }
    message = Message.from_dict(data)
    assert message.tool_calls == (ToolCall("c1", "add", '{"a": 1}'),)
    assert message.to_dict() == data
    assert Message.from_dict(json.loads(json.dumps(message.to_dict()))) == message


def test_multimodal_content_converts_both_ways() -> None:
    parts = [{"type": "text", "text": "look "}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}]
    message = Message.from_dict({"role": "user", "content": parts})
    assert message.content == (TextPart("look "), ImagePart("data:image/png;base64,AA"))
    assert message.to_dict()["content"] == parts
    assert message.text == "look <image>"


def test_message_without_content_or_tool_calls_is_rejected_with_a_clear_error() -> None:
    with pytest.raises(InvalidMessageError, match="needs content or tool calls"):
        Message(role="assistant")
    with pytest.raises(ValueError, match="both are missing"):
        Message.from_dict({"role": "user", "name": "bob"})


def test_unknown_role_is_rejected_naming_the_valid_ones() -> None:
    with pytest.raises(InvalidMessageError, match="system, user, assistant, tool"):
        Message.from_dict({"role": "robot", "content": "hi"})


def test_tool_responses_expand_into_one_tool_message_each_on_the_wire() -> None:
    message = Message(
        role="tool",
        content="3\n\n7",
        tool_responses=(ToolResponse("c1", "3"), ToolResponse("c2", "7")),
    )
    assert message.to_openai() == [
        {"tool_call_id": "c1", "role": "tool", "content": "3"},
        {"tool_call_id": "c2", "role": "tool", "content": "7"},
    ]


def test_user_message_with_tool_responses_sends_the_results_before_itself() -> None:
    message = Message(
        role="user", content="stop that", name="human", tool_responses=(ToolResponse("c1", "USER INTERRUPTED"),)
    )
    wire = message.to_openai()
    assert [m["role"] for m in wire] == ["tool", "user"]
    assert wire[1] == {"role": "user", "content": "stop that", "name": "human"}


def test_message_reads_like_an_autogen_dict() -> None:
    message = Message(role="user", content="hello", name="alice")
    assert message["content"] == "hello"
    assert message.get("tool_calls") is None
    assert "name" in message
    assert "tool_calls" not in message
    assert dict(message) == {"content": "hello", "role": "user", "name": "alice"}
    with pytest.raises(KeyError):
        message["tool_calls"]


def test_wire_form_is_cached_but_to_openai_hands_out_copies() -> None:
    message = Message(role="user", content="x")
    assert message.wire() is message.wire()
    copy = message.to_openai()
    copy[0]["content"] = "changed"
    assert message.wire()[0]["content"] == "x"


def test_content_str_handles_every_content_shape() -> None:
    assert content_str(None) == ""
    assert content_str("a") == "a"
    assert content_str([{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "u"}}]) == "a<image>"
