"""A team model's ``cache_seed`` in the bot: answers are kept in the bot's database, not on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.settings import Settings
from storage import Database
from storage.schema import llm_cache
from tests.bot.crew import Crew, crew_bot, in_thread
from tests.fakes.openai_server import ScriptedOpenAI
from tests.storage.conftest import database_url, postgres_template

__all__ = ["database_url", "postgres_template"]  # the fixtures: every test here runs on SQLite and PostgreSQL


async def test_a_repeated_request_is_answered_from_the_bots_database(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, server = crew
    monkeypatch.chdir(tmp_path)  # where AutoGen's disk cache (.cache/) would appear
    models = {"default": {"model": "gpt-4o-mini", "base_url": server.base_url, "api_key": "sk-x", "cache_seed": 7}}
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, drain_seconds=10, http_port=0)
    async with crew_bot(server, tmp_path, settings=settings, models=models) as bot:
        await bot.platform.mention("t1", "the same task")
        await bot.platform.wait_for(in_thread("t1"))
        asked = len(model.requests)
        await bot.platform.mention("t2", "the same task")
        await bot.platform.wait_for(in_thread("t2"))
        assert len(model.requests) == asked  # every answer of the second thread came from the cache
        first, second = bot.platform.in_thread("t1"), bot.platform.in_thread("t2")
        assert [(p.author, p.text) for p in second] == [(p.author, p.text) for p in first]
    async with Database(database_url) as db, db.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(llm_cache))).scalar_one() == asked
    assert not (tmp_path / ".cache").exists()
