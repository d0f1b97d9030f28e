"""Config lists and Cache as AutoGen 0.2 users write them."""

from __future__ import annotations

import json
import os
import socket
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import agents as autogen
from agents import AssistantAgent, Cache, ConfigurationError, ConversableAgent
from agents.llm import InMemoryCache, use_seed_cache
from tests.conftest import require
from tests.fakes.openai_server import ScriptedOpenAI

CONFIGS = [
    {"model": "gpt-4o", "api_key": "k1", "tags": ["best"]},
    {"model": "gpt-4o-mini", "api_key": "k2", "tags": ["cheap", "fast"]},
    {"model": "llama3", "base_url": "http://localhost:11434/v1", "api_key": "ollama"},
]


def test_config_list_from_json_reads_the_variable_the_file_it_names_or_a_file_in_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAI_CONFIG_LIST", json.dumps(CONFIGS))
    assert autogen.config_list_from_json("OAI_CONFIG_LIST") == CONFIGS
    (tmp_path / "list.json").write_text(json.dumps(CONFIGS))
    monkeypatch.setenv("OAI_CONFIG_LIST", str(tmp_path / "list.json"))
    assert autogen.config_list_from_json("OAI_CONFIG_LIST", filter_dict={"model": ["llama3"]}) == CONFIGS[2:]
    monkeypatch.delenv("OAI_CONFIG_LIST")
    (tmp_path / "OAI_CONFIG_LIST").write_text(json.dumps(CONFIGS))
    config_list = autogen.config_list_from_json("OAI_CONFIG_LIST", file_location=str(tmp_path))
    assert [c["model"] for c in config_list] == ["gpt-4o", "gpt-4o-mini", "llama3"]


def test_config_list_from_json_gives_an_empty_list_for_a_missing_file_and_an_error_for_bad_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_SUCH_LIST", raising=False)
    assert autogen.config_list_from_json("NO_SUCH_LIST", file_location=str(tmp_path)) == []
    monkeypatch.setenv("BROKEN_LIST", "[{'model': 'x'}]")
    with pytest.raises(ConfigurationError, match=r"\$BROKEN_LIST is not valid JSON"):
        autogen.config_list_from_json("BROKEN_LIST")


def test_autogens_module_paths_reach_the_same_names() -> None:
    from agents.cache import Cache as CacheFromModule
    from agents.oai import OpenAIWrapper, config_list_from_json
    from agents.oai.openai_utils import filter_config

    assert CacheFromModule is Cache
    assert config_list_from_json is autogen.config_list_from_json
    assert filter_config is autogen.filter_config
    assert OpenAIWrapper is autogen.OpenAIWrapper


def test_filter_config_matches_values_tags_missing_keys_and_excludes() -> None:
    assert autogen.filter_config(CONFIGS, {"model": ["gpt-4o", "llama3"]}) == [CONFIGS[0], CONFIGS[2]]
    assert autogen.filter_config(CONFIGS, {"tags": ["fast"]}) == [CONFIGS[1]]
    assert autogen.filter_config(CONFIGS, {"tags": [None]}) == [CONFIGS[2]]
    assert autogen.filter_config(CONFIGS, {"model": ["gpt-4o"]}, exclude=True) == CONFIGS[1:]
    assert autogen.filter_config(CONFIGS, None) == CONFIGS


def test_config_list_from_dotenv_builds_entries_from_the_keys_it_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OPENAI_API_KEY", "ANOTHER_KEY", "MISSING_KEY"):
        monkeypatch.delenv(name, raising=False)  # and restored after the test, whatever .env sets
    env = tmp_path / ".env"
    env.write_text("OPENAI_API_KEY=sk-from-dotenv\nANOTHER_KEY=sk-another\n")
    config_list = autogen.config_list_from_dotenv(
        dotenv_file_path=str(env),
        model_api_key_map={
            "gpt-4o": "OPENAI_API_KEY",
            "my-model": {"api_key_env_var": "ANOTHER_KEY", "base_url": "http://127.0.0.1:1/v1"},
            "skipped": "MISSING_KEY",
        },
    )
    assert config_list == [
        {"api_key": "sk-from-dotenv", "model": "gpt-4o"},
        {"api_key": "sk-another", "base_url": "http://127.0.0.1:1/v1", "model": "my-model"},
    ]
    defaults = autogen.config_list_from_dotenv(dotenv_file_path=str(env), filter_dict={"model": ["gpt-4"]})
    assert defaults == [{"api_key": "sk-from-dotenv", "model": "gpt-4"}]
    with pytest.raises(ConfigurationError, match="api_key_env_var"):
        autogen.config_list_from_dotenv(dotenv_file_path=str(env), model_api_key_map={"m": {"key": "X"}})


def test_cache_disk_is_a_key_value_store_and_a_context_manager(tmp_path: Path) -> None:
    with Cache.disk(cache_seed=1, cache_path_root=str(tmp_path)) as cache:
        assert cache.get("k") is None
        assert cache.get("k", "fallback") == "fallback"
        cache.set("k", {"answer": 42})
        assert cache.get("k") == {"answer": 42}
    assert Cache.disk(cache_seed=1, cache_path_root=str(tmp_path)).get("k") == {"answer": 42}
    assert Cache.disk(cache_seed=2, cache_path_root=str(tmp_path)).get("k") is None
    with pytest.raises(ConfigurationError, match="unknown Cache config keys"):
        Cache({"cache_seed": 1, "cosmos": {}})


def test_a_chat_with_a_disk_cache_is_replayed_without_calling_the_model(
    openai_server: ScriptedOpenAI, tmp_path: Path
) -> None:
    openai_server.script("cached answer")
    user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
    assistant = AssistantAgent("assistant", llm_config=openai_server.llm_config())
    for _ in range(2):
        with Cache.disk(cache_seed=42, cache_path_root=str(tmp_path)) as cache:
            result = user.initiate_chat(assistant, message="q", max_turns=1, cache=cache, silent=True)
        assert result.summary == "cached answer"
    assert len(openai_server.requests) == 1
    # llm_config's cache_seed reads the same disk cache.
    seeded = AssistantAgent(
        "assistant", llm_config=openai_server.llm_config(cache_seed=42, cache_path_root=str(tmp_path))
    )
    assert user.initiate_chat(seeded, message="q", max_turns=1, silent=True).summary == "cached answer"
    assert len(openai_server.requests) == 1


def test_use_seed_cache_keeps_cache_seeds_answers_in_the_store_given(
    openai_server: ScriptedOpenAI, tmp_path: Path
) -> None:
    openai_server.script("stored answer")
    store = InMemoryCache()
    user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
    seeded = AssistantAgent(
        "assistant", llm_config=openai_server.llm_config(cache_seed=7, cache_path_root=str(tmp_path))
    )
    with use_seed_cache(store):
        for _ in range(2):
            assert user.initiate_chat(seeded, message="q", max_turns=1, silent=True).summary == "stored answer"
    assert len(openai_server.requests) == 1
    assert len(store) == 1
    assert not list(tmp_path.iterdir())  # nothing on disk


REDIS_URL = os.environ.get("THREADCREW_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_up() -> bool:
    address = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((address.hostname or "127.0.0.1", address.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def test_cache_redis_stores_values_and_serves_chats(openai_server: ScriptedOpenAI) -> None:
    require(_redis_up(), f"no Redis server at {REDIS_URL} (set THREADCREW_TEST_REDIS_URL)")
    seed = f"test-{uuid.uuid4().hex}"
    with Cache.redis(cache_seed=seed, redis_url=REDIS_URL) as cache:
        cache.set("k", [1, 2])
        assert cache.get("k") == [1, 2]
        openai_server.script("from redis")
        user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
        assistant = AssistantAgent("assistant", llm_config=openai_server.llm_config())
        first = user.initiate_chat(assistant, message="q", max_turns=1, cache=cache, silent=True)
        second = user.initiate_chat(assistant, message="q", max_turns=1, cache=cache, silent=True)
    assert first.summary == second.summary == "from redis"
    assert len(openai_server.requests) == 1
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = client.keys(f"autogen:{seed}:*")
    assert len(keys) == 2  # "k" and the model answer
    client.delete(*keys)
    client.close()
