"""runtime_logging in the bot: a team's model calls, agents, events and tool calls go to the bot's
database, each tied to its conversation, and come back with ``threadcrew transcript log``."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

from typer.testing import CliRunner

from agents import AssistantAgent, UserProxyAgent, runtime_logging
from bot.cli import app
from bot.logs import bind_thread
from bot.runtime_log import StorageLogger
from bot.settings import Settings
from storage import Database
from tests.bot.crew import DONE, Crew, crew_bot, in_thread, last_starts
from tests.fakes.openai_server import ScriptedOpenAI, tool_calls
from tests.storage.conftest import database_url, postgres_template

__all__ = ["database_url", "postgres_template"]  # the fixtures: every test here runs on SQLite and PostgreSQL


def _settings(tmp_path: Path, url: str, **more: object) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", database_url=url, step_timeout=30, drain_seconds=10, http_port=0, **more
    )


async def test_a_teams_run_is_logged_in_the_bots_database_by_conversation(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, database_url: str
) -> None:
    model, server = crew
    model.after.update({"coder": "runner", "runner": "reviewer"})
    model.say("coder", tool_calls(("word_count", {"sentence": "one two three"})))
    async with crew_bot(server, tmp_path, settings=_settings(tmp_path, database_url, runtime_logging=True)) as bot:
        await bot.platform.mention("t1", "count the words")
        await bot.platform.wait_for(in_thread("t1"))
        await bot.platform.mention("t2", "plan a trip")
        await bot.platform.wait_for(in_thread("t2"))
        await bot.platform.say("t1", "yes, ship it", who="bob")  # t1's team is built again from its state
        await bot.platform.wait_for(last_starts(DONE))
        await bot.idle()
        first, second = await bot.conversation("t1"), await bot.conversation("t2")
        calls_t1 = len([m for role, m in model.requests if any("count the words" in str(x) for x in m)])
    assert not runtime_logging.logging_enabled()  # the bot's logging ended with the bot

    async with Database(database_url) as db:
        logged = await db.stores.runtime_log.for_conversation(first.id)
        other = await db.stores.runtime_log.for_conversation(second.id)
    uses = [r for r in logged if r.kind == "function_calls"]
    assert [(r.source_name, r.name) for r in uses] == [("runner", "word_count")]
    assert uses[0].record["args"] == {"sentence": "one two three"}
    assert uses[0].record["returns"] == 3
    completions = [r for r in logged if r.kind == "chat_completions"]
    assert len(completions) == calls_t1  # each of the thread's model calls, and only its own
    assert any(c.record["request"]["messages"][-1].get("content") == "count the words" for c in completions)
    built = [r.source_name for r in logged if r.kind == "agents"]
    assert {"planner", "coder", "reviewer", "runner"} <= set(built)
    assert built.count("planner") == 2  # at the start, and again when the answer came
    assert any(r.kind == "events" and r.name == "received_message" for r in logged)
    assert not [r for r in other if r.kind == "function_calls"]
    assert any(r.kind == "chat_completions" for r in other)
    assert len({r.session_id for r in logged + other}) == 1
    assert "sk-test-crew-0123" not in json.dumps([r.record for r in logged + other])

    env = {"THREADCREW_DATA_DIR": str(tmp_path / "data"), "THREADCREW_DATABASE_URL": database_url}
    shown = await asyncio.to_thread(
        CliRunner().invoke, app, ["transcript", "log", str(first.id), "--kind", "function_calls"], env=env
    )
    assert shown.exit_code == 0, shown.output
    lines = [json.loads(line) for line in shown.stdout.splitlines()]
    assert [(x["type"], x["source_name"], x["function_name"], x["args"], x["returns"]) for x in lines] == [
        ("function_calls", "runner", "word_count", {"sentence": "one two three"}, 3)
    ]


async def test_nothing_is_logged_when_runtime_logging_is_off(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, database_url: str
) -> None:
    async with crew_bot(crew[1], tmp_path, settings=_settings(tmp_path, database_url)) as bot:
        await bot.platform.mention("t1", "count the words")
        await bot.platform.wait_for(in_thread("t1"))
        assert not runtime_logging.logging_enabled()
        first = await bot.conversation("t1")
        assert await bot.db.stores.runtime_log.for_conversation(first.id) == []


async def test_the_storage_logger_serves_runtime_logging_as_an_autogen_user_calls_it(
    openai_server: ScriptedOpenAI, database_url: str
) -> None:
    """start(logger=...), a chat whose sync tool logs from its worker thread, stop: all of it stored."""
    openai_server.script(tool_calls(("shout", {"word": "hi"})), "HI it is")
    async with Database(database_url) as db:
        conversation = await db.stores.conversations.get_or_create("memory", "W1", "C1", "t9", team="crew")
        bind_thread("memory:W1:C1:t9", conversation.id)  # as a thread's worker does
        logger = StorageLogger(db)
        session_id = runtime_logging.start(logger=logger)
        try:
            assistant = AssistantAgent("assistant", llm_config=openai_server.llm_config())
            user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)

            @user.register_for_execution()
            @assistant.register_for_llm(description="Shout a word.")
            def shout(word: str) -> str:
                runtime_logging.log_event("shout", "shouting", thread=threading.current_thread().name)
                return word.upper()

            await user.a_initiate_chat(assistant, message="shout hi", max_turns=2, silent=True)
        finally:
            runtime_logging.stop()
        await logger.drain()
        logged = await db.stores.runtime_log.for_conversation(conversation.id)
    assert {r.session_id for r in logged} == {session_id}
    uses = [r for r in logged if r.kind == "function_calls"]
    assert [(u.source_name, u.name, u.record["args"], u.record["returns"]) for u in uses] == [
        ("user", "shout", {"word": "hi"}, "HI")
    ]
    shouted = [r for r in logged if r.name == "shouting"]
    assert len(shouted) == 1
    assert shouted[0].record["json_state"]["thread"] != threading.current_thread().name  # from the tool's thread
    assert len([r for r in logged if r.kind == "chat_completions"]) == 2
