"""The model client through the real ``openai`` package against the scripted server."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents import (
    AssistantAgent,
    ConfigurationError,
    ConversableAgent,
    FunctionModelClient,
    InMemoryCache,
    LLMClient,
    Message,
    ModelError,
    gather_usage_summary,
)
from agents.llm import cost_of, observe_calls
from tests.fakes.openai_server import ScriptedOpenAI, error, slow, text, tool_calls


async def test_reply_comes_from_the_model_and_the_request_carries_system_message_and_names(
    openai_server: ScriptedOpenAI,
) -> None:
    openai_server.script("Paris.")
    assistant = AssistantAgent("assistant", system_message="Answer briefly.", llm_config=openai_server.llm_config())
    user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
    user.chat_messages[assistant].append(Message(role="assistant", content="Capital of France?", name="user"))
    assistant.chat_messages[user].append(Message(role="user", content="Capital of France?", name="user"))

    reply = await assistant.a_generate_reply(sender=user)

    assert reply == "Paris."
    [request] = openai_server.requests
    assert request.headers["Authorization"] == "Bearer sk-test-not-a-real-key"
    assert request.body["model"] == "gpt-4o-mini"
    assert request.body["messages"] == [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "Capital of France?", "name": "user"},
    ]
    assert "tools" not in request.body


async def test_body_parameters_from_llm_config_reach_the_request(openai_server: ScriptedOpenAI) -> None:
    openai_server.script("ok")
    client = LLMClient({**openai_server.llm_config(), "temperature": 0.2, "max_tokens": 50})
    await client.create([{"role": "user", "content": "hi"}])
    body = openai_server.requests[0].body
    assert (body["temperature"], body["max_tokens"]) == (0.2, 50)
    assert "max_retries" not in body
    assert "api_key" not in body


async def test_429_is_retried_after_the_retry_after_the_server_asked_for(openai_server: ScriptedOpenAI) -> None:
    openai_server.script(error(429, "slow down", retry_after=0.3), "finally")
    client = LLMClient({"config_list": [openai_server.config()], "max_retries": 2})
    response = await client.create([{"role": "user", "content": "hi"}])
    assert response.message.content == "finally"
    first, second = openai_server.requests
    # The client waited as long as Retry-After said, not its own shorter backoff.
    assert second.at - first.at >= 0.29


async def test_a_failing_config_falls_back_to_the_next_one_in_order(openai_server: ScriptedOpenAI) -> None:
    openai_server.script(error(500, "boom"), "from the second")
    client = LLMClient(
        {"config_list": [openai_server.config("first-model"), openai_server.config("second-model")], "max_retries": 0}
    )
    response = await client.create([{"role": "user", "content": "hi"}])
    assert response.message.content == "from the second"
    assert [r.body["model"] for r in openai_server.requests] == ["first-model", "second-model"]


async def test_when_every_config_fails_the_error_names_each_failure_and_keeps_the_status(
    openai_server: ScriptedOpenAI,
) -> None:
    openai_server.script(error(503, "overloaded"), error(429, "quota", retry_after=30))
    client = LLMClient({"config_list": [openai_server.config("a"), openai_server.config("b")], "max_retries": 0})
    with pytest.raises(ModelError) as caught:
        await client.create([{"role": "user", "content": "hi"}])
    message = str(caught.value)
    assert "config_list[0] (a): HTTP 503: overloaded" in message
    assert "config_list[1] (b): HTTP 429: quota" in message
    assert caught.value.status == 429
    assert caught.value.retry_after == 30.0
    assert "sk-test" not in message


async def test_a_slow_endpoint_times_out_and_the_next_config_answers(openai_server: ScriptedOpenAI) -> None:
    openai_server.script(slow(5, text("too late")), "in time")
    client = LLMClient(
        {"config_list": [openai_server.config("slow"), openai_server.config("fast")], "max_retries": 0, "timeout": 0.3}
    )
    response = await client.create([{"role": "user", "content": "hi"}])
    assert response.message.content == "in time"


async def test_tokens_and_cost_of_each_call_are_counted(openai_server: ScriptedOpenAI) -> None:
    openai_server.script(text("a", prompt_tokens=1000, completion_tokens=100, model="gpt-4o-2024-08-06"))
    openai_server.script(text("b", prompt_tokens=10, completion_tokens=5))
    client = LLMClient(openai_server.llm_config("gpt-4o"))
    await client.create([{"role": "user", "content": "1"}])
    client2 = LLMClient({"config_list": [openai_server.config("mine", price=[0.01, 0.02])], "max_retries": 0})
    await client2.create([{"role": "user", "content": "2"}])

    summary = client.total_usage_summary
    assert summary is not None
    assert summary["gpt-4o-2024-08-06"]["prompt_tokens"] == 1000
    assert summary["total_cost"] == pytest.approx(cost_of("gpt-4o", 1000, 100))
    assert summary["total_cost"] == pytest.approx((1000 * 2.5 + 100 * 10) / 1_000_000)
    assert client2.usage.total_cost == pytest.approx((10 * 0.01 + 5 * 0.02) / 1000)


async def test_streaming_passes_each_delta_to_the_handler_and_assembles_the_reply(
    openai_server: ScriptedOpenAI,
) -> None:
    openai_server.script(text("The quick brown fox jumps over the lazy dog.", prompt_tokens=12, completion_tokens=9))
    pieces: list[str] = []
    client = LLMClient(openai_server.llm_config())
    response = await client.create([{"role": "user", "content": "go"}], stream_handler=pieces.append)
    assert len(pieces) > 3
    assert "".join(pieces) == "The quick brown fox jumps over the lazy dog."
    assert response.message.content == "".join(pieces)
    assert openai_server.requests[0].body["stream"] is True
    assert (response.prompt_tokens, response.completion_tokens) == (12, 9)


async def test_streamed_tool_calls_are_assembled(openai_server: ScriptedOpenAI) -> None:
    openai_server.script(tool_calls(("lookup", {"city": "Paris", "days": 3}), ("lookup", {"city": "Oslo"})))
    client = LLMClient(openai_server.llm_config())
    response = await client.create([{"role": "user", "content": "weather?"}], stream_handler=lambda _: None)
    calls = response.message.tool_calls
    assert [(c.name, c.arguments) for c in calls] == [
        ("lookup", '{"city": "Paris", "days": 3}'),
        ("lookup", '{"city": "Oslo"}'),
    ]
    assert len({c.id for c in calls}) == 2


async def test_agent_streams_through_its_stream_handler(openai_server: ScriptedOpenAI) -> None:
    openai_server.script("streamed answer")
    seen: list[str] = []

    async def handler(delta: str) -> None:
        seen.append(delta)

    assistant = AssistantAgent("assistant", llm_config=openai_server.llm_config(), stream_handler=handler)
    reply = await assistant.a_generate_reply(messages=[Message(role="user", content="hi")])
    assert reply == "streamed answer"
    assert "".join(seen) == "streamed answer"


async def test_response_cache_is_used_only_when_cache_seed_is_set(
    openai_server: ScriptedOpenAI, tmp_path: Path
) -> None:
    openai_server.script("first", "second", "third")
    messages = [{"role": "user", "content": "same question"}]
    cached = LLMClient({**openai_server.llm_config(), "cache_seed": 7, "cache_path_root": str(tmp_path)})
    assert (await cached.create(messages)).message.content == "first"
    assert (await cached.create(messages)).message.content == "first"
    assert len(openai_server.requests) == 1
    assert (tmp_path / "7" / "responses.sqlite").exists()

    uncached = LLMClient(openai_server.llm_config())
    assert (await uncached.create(messages)).message.content == "second"
    assert (await uncached.create(messages)).message.content == "third"
    assert len(openai_server.requests) == 3


async def test_a_cache_hit_counts_in_total_usage_but_not_in_actual_usage(openai_server: ScriptedOpenAI) -> None:
    openai_server.script(text("x", prompt_tokens=100, completion_tokens=10))
    cache = InMemoryCache()
    client = LLMClient(openai_server.llm_config())
    messages = [{"role": "user", "content": "q"}]
    await client.create(messages, cache=cache)
    await client.create(messages, cache=cache)
    summary = client.usage.summary()
    assert summary["usage_including_cached_inference"]["gpt-4o-mini"]["prompt_tokens"] == 200
    assert summary["usage_excluding_cached_inference"]["gpt-4o-mini"]["prompt_tokens"] == 100


async def test_azure_config_posts_to_the_deployment_path_with_the_api_version(openai_server: ScriptedOpenAI) -> None:
    openai_server.script("from azure")
    entry = {
        "model": "my-deployment",
        "api_type": "azure",
        "api_version": "2024-06-01",
        "base_url": f"http://127.0.0.1:{openai_server.port}",
        "api_key": "azure-key",
    }
    client = LLMClient({"config_list": [entry], "max_retries": 0})
    response = await client.create([{"role": "user", "content": "hi"}])
    assert response.message.content == "from azure"
    request = openai_server.requests[0]
    assert request.path == "/openai/deployments/my-deployment/chat/completions"
    assert request.headers["api-key"] == "azure-key"


@pytest.mark.parametrize(
    ("llm_config", "fragment"),
    [
        ({"config_list": []}, "non-empty list"),
        ({"config_list": [{"api_key": "k"}]}, "config_list'][0] has no 'model'"),
        ({"config_list": [{"model": "m", "api_key": "k", "api_type": "bedrock"}]}, "api_type 'bedrock'"),
        ({"config_list": [{"model": "m", "api_key": "k", "price": [1]}]}, "'price' must be"),
        ({"temperature": 0}, "llm_config has no model"),
        ({"model": "m", "api_key": "k", "functions": []}, "retired function-calling API"),
    ],
)
def test_bad_llm_config_is_an_error_that_names_the_key(llm_config: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=fragment.replace("[", r"\[").replace("(", r"\(")):
        LLMClient(llm_config)


def test_missing_api_key_names_the_entry_and_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match=r"config_list'\]\[0\] has no 'api_key' and OPENAI_API_KEY"):
        AssistantAgent("a", llm_config={"config_list": [{"model": "gpt-4o"}]})


async def test_a_5xx_is_retried_by_the_client_before_falling_back(openai_server: ScriptedOpenAI) -> None:
    openai_server.script(error(502, "bad gateway", retry_after=0.01), "second try")
    client = LLMClient({"config_list": [openai_server.config()], "max_retries": 1})
    response = await client.create([{"role": "user", "content": "hi"}])
    assert response.message.content == "second try"
    assert len(openai_server.requests) == 2


async def test_gather_usage_summary_sums_the_agents_lifetime_usage(openai_server: ScriptedOpenAI) -> None:
    openai_server.script(
        text("a", prompt_tokens=10, completion_tokens=1), text("b", prompt_tokens=20, completion_tokens=2)
    )
    first = AssistantAgent("first", llm_config=openai_server.llm_config())
    second = AssistantAgent("second", llm_config=openai_server.llm_config())
    plain = ConversableAgent("plain", llm_config=False)
    await first.a_generate_reply([Message(role="user", content="1")])
    await second.a_generate_reply([Message(role="user", content="2")])
    summary = gather_usage_summary([first, second, plain])
    usage = summary["usage_including_cached_inference"]["gpt-4o-mini"]
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (30, 3, 33)
    assert summary["usage_excluding_cached_inference"]["total_cost"] == pytest.approx(
        summary["usage_including_cached_inference"]["total_cost"]
    )


async def test_stream_true_prints_the_reply_as_it_arrives(
    openai_server: ScriptedOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    openai_server.script("printed piece by piece")
    assistant = AssistantAgent("assistant", llm_config=openai_server.llm_config(stream=True))
    await assistant.a_generate_reply([Message(role="user", content="hi")])
    assert "printed piece by piece" in capsys.readouterr().out
    assert openai_server.requests[0].body["stream"] is True


async def test_a_chat_cache_serves_repeated_chats_without_calling_the_model(openai_server: ScriptedOpenAI) -> None:
    openai_server.script("cached answer")
    cache = InMemoryCache()
    user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
    assistant = AssistantAgent("assistant", llm_config=openai_server.llm_config())
    first = await user.a_initiate_chat(assistant, message="q", max_turns=1, cache=cache, silent=True)
    second = await user.a_initiate_chat(assistant, message="q", max_turns=1, cache=cache, silent=True)
    assert first.summary == second.summary == "cached answer"
    assert len(openai_server.requests) == 1
    assert second.cost["usage_excluding_cached_inference"] == {"total_cost": 0}


def test_an_unregistered_model_client_cls_is_an_error_that_says_how_to_register_it() -> None:
    assistant = AssistantAgent(
        "assistant", llm_config={"config_list": [{"model": "local", "model_client_cls": "MyClient"}]}
    )
    with pytest.raises(ConfigurationError, match=r"register_model_client\(MyClient"):
        assistant.generate_reply([Message(role="user", content="hi")])
    with pytest.raises(ConfigurationError, match="no config_list entry has 'model_client_cls': 'FunctionModelClient'"):
        assistant.register_model_client(FunctionModelClient, fn=lambda request: "x")


@pytest.mark.parametrize(
    ("messages", "fragment"),
    [
        ([{"role": "tool", "tool_call_id": "c1", "content": "3"}], "must be a response to a preceding message"),
        (
            [
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
                },
                {"role": "user", "content": "next"},
            ],
            "did not have response messages: ['c1']",
        ),
        ([{"role": "user", "content": "hi", "name": "Story writer"}], "does not match"),
    ],
)
async def test_the_scripted_server_refuses_what_openai_refuses(
    openai_server: ScriptedOpenAI, messages: list[dict[str, object]], fragment: str
) -> None:
    client = LLMClient(openai_server.llm_config())
    with pytest.raises(ModelError, match="HTTP 400") as caught:
        await client.create(messages)  # type: ignore[arg-type]
    assert fragment in str(caught.value)
    assert caught.value.status == 400


async def test_observe_calls_hears_each_call_with_its_model_and_failure_in_its_scope_only(
    openai_server: ScriptedOpenAI,
) -> None:
    openai_server.script(error(500, "boom"), "from the second", "unobserved")
    client = LLMClient(
        {"config_list": [openai_server.config("first-model"), openai_server.config("second-model")], "max_retries": 0}
    )
    heard: list[tuple[str, bool]] = []

    def broken(model: str, seconds: float, failed: bool) -> None:
        raise RuntimeError("an observer's bug")

    with observe_calls(lambda model, seconds, failed: heard.append((model, failed))), observe_calls(broken):
        response = await client.create([{"role": "user", "content": "hi"}])
    await client.create([{"role": "user", "content": "hi"}])

    assert response.message.content == "from the second"  # the broken observer did not break the call
    assert heard == [("first-model", True), (response.model, False)]
