"""Images in messages: AutoGen's multimodal content reaches models that see, a note reaches the others."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from agents import AssistantAgent, ChatRun, ConfigurationError, DeferredInput, UserProxyAgent
from agents.llm import parse_llm_config
from agents.llm.vision import NO_VISION_NOTE, without_images
from tests.fakes.openai_server import ScriptedOpenAI

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
IMAGE_URL = f"data:image/png;base64,{base64.b64encode(PNG).decode()}"
PARTS = [
    {"type": "text", "text": "What does this chart show?"},
    {"type": "image_url", "image_url": {"url": IMAGE_URL}},
]


def _pair(server: ScriptedOpenAI, **entry: Any) -> tuple[UserProxyAgent, AssistantAgent]:
    assistant = AssistantAgent("assistant", llm_config={"config_list": [server.config(**entry)]})
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)
    return user, assistant


def _last_user_content(server: ScriptedOpenAI) -> Any:
    return [m for m in server.bodies()[-1]["messages"] if m["role"] == "user"][-1]["content"]


def test_a_multimodal_message_in_a_plain_two_agent_chat_reaches_the_model_as_image_content() -> None:
    with ScriptedOpenAI().script("A bar chart of squares.") as server:
        user, assistant = _pair(server)
        result = user.initiate_chat(assistant, message={"content": PARTS}, max_turns=1, silent=True)
    assert _last_user_content(server) == PARTS  # as given, AutoGen's way: no vision key, nothing changed
    assert result.chat_history[0]["content"] == PARTS
    assert result.summary == "A bar chart of squares."


def test_a_model_marked_without_vision_gets_a_note_instead_of_the_image() -> None:
    with ScriptedOpenAI().script("I cannot see it.") as server:
        user, assistant = _pair(server, vision=False)
        result = user.initiate_chat(assistant, message={"content": PARTS}, max_turns=1, silent=True)
    sent = _last_user_content(server)
    assert sent == f"What does this chart show?\n{NO_VISION_NOTE}"
    assert IMAGE_URL not in json.dumps(server.bodies())
    assert result.chat_history[0]["content"] == PARTS  # the transcript keeps the image for others


def test_a_model_marked_with_vision_gets_the_image() -> None:
    with ScriptedOpenAI().script("Squares.") as server:
        user, assistant = _pair(server, vision=True)
        user.initiate_chat(assistant, message={"content": PARTS}, max_turns=1, silent=True)
    assert _last_user_content(server) == PARTS


async def test_a_human_answer_with_an_image_reaches_the_model_and_is_text_in_human_input() -> None:
    with ScriptedOpenAI().script("Tell me more.", "It is a chart.") as server:
        assistant = AssistantAgent("assistant", llm_config={"config_list": [server.config(vision=True)]})
        user = UserProxyAgent(
            "user", human_input_mode="ALWAYS", human_input_source=DeferredInput(), code_execution_config=False
        )
        run = ChatRun(user, assistant, message="Ask me about my file.", silent=True, max_turns=2)
        assert await run.a_run() == "waiting"
        # A restart: the state goes through JSON before the answer (with its image) comes.
        state = json.loads(json.dumps(run.to_json()))
        run = ChatRun.from_json(state, [user, assistant])
        run.deliver(PARTS)
        state = json.loads(json.dumps(run.to_json()))  # the answer waits in the state, image and all
        run = ChatRun.from_json(state, [user, assistant])
        await run.a_run()
    assert _last_user_content(server) == PARTS
    assert run.transcript[2].content is not None
    assert run.transcript[2].to_dict()["content"] == PARTS
    assert user._human_input == ["What does this chart show?<image>"]


def test_without_images_flattens_only_list_content_and_keeps_the_others_as_they_are() -> None:
    plain = {"role": "system", "content": "You look at charts."}
    audio = {"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "..."}}]}
    sent = without_images([plain, {"role": "user", "content": PARTS, "name": "user"}, audio])
    assert sent[0] is plain
    assert sent[1] == {"role": "user", "content": f"What does this chart show?\n{NO_VISION_NOTE}", "name": "user"}
    assert sent[2]["content"] == "[a content part (input_audio) is attached here; this model cannot read it]"


def test_vision_must_be_true_or_false() -> None:
    with pytest.raises(ConfigurationError, match="'vision' must be true or false"):
        parse_llm_config({"config_list": [{"model": "m", "api_key": "k", "vision": "yes"}]})
    config = parse_llm_config({"config_list": [{"model": "m", "api_key": "k", "vision": False}]})
    assert config.entries[0].vision is False
    assert "vision" not in config.entries[0].params  # never sent to the endpoint
