"""The team file's ``sandbox:``: code never runs without one unless the file says ``none``, and the thread hears it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents import DockerCommandLineCodeExecutor, LocalCommandLineCodeExecutor
from bot.teams import NO_SANDBOX, NO_SANDBOX_HERE, TeamCatalog
from tests.bot.crew import Crew, crew_bot, in_thread, last_starts, team_config
from tests.bot.test_team_config import problem, write
from tests.fakes.openai_server import ScriptedOpenAI

CODE = {"executor": "local", "approval": "required", "timeout": 30}


@pytest.fixture
def crew() -> Iterator[tuple[Crew, ScriptedOpenAI]]:
    model = Crew()
    with ScriptedOpenAI(responder=model) as server:
        yield model, server


async def test_sandbox_none_warns_the_thread_when_the_team_starts(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with crew_bot(server, tmp_path, code_execution={**CODE, "sandbox": "none"}) as bot:
        await bot.platform.mention("t1", "chart the squares")
        await bot.platform.wait_for(in_thread("t1"))
        posts = bot.platform.in_thread("t1")
        assert posts[0].text == NO_SANDBOX
        assert [p.text for p in posts].count(NO_SANDBOX) == 1
        assert posts[1].text == "planner on 'chart the squares'"  # and the run goes on


async def test_without_a_sandbox_the_run_stops_with_a_note_saying_how_to_get_one(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, server = crew
    monkeypatch.setattr("agents.coding.local.bubblewrap_works", lambda: False)
    async with crew_bot(server, tmp_path, code_execution=CODE) as bot:  # sandbox: auto, the default
        await bot.platform.mention("t1", "chart the squares")
        await bot.platform.wait_for(last_starts("This team runs code"))
        await bot.idle()
        posts = bot.platform.in_thread("t1")
        assert [p.text for p in posts] == [NO_SANDBOX_HERE]
        assert "apt-get install bubblewrap" in NO_SANDBOX_HERE
        assert "sandbox: none" in NO_SANDBOX_HERE
        assert (await bot.conversation("t1")).status == "failed"
        assert model.seen("planner") == 0  # no model was asked for anything


def test_sandbox_docker_builds_the_docker_executor_with_its_runtime(tmp_path: Path) -> None:
    config = team_config(
        "http://127.0.0.1:9/v1", code_execution={**CODE, "sandbox": "docker", "image": "img:1", "runtime": "runsc"}
    )
    catalog = TeamCatalog()
    catalog.add_file(write(tmp_path / "team.yaml", config), default=True)
    team = catalog.build(None, tmp_path / "work")
    try:
        assert isinstance(team.executor, DockerCommandLineCodeExecutor)
        assert (team.executor.image, team.executor.runtime) == ("img:1", "runsc")
        assert (team.notes, team.refusal) == ((), None)
    finally:
        asyncio.run(team.close())


def test_sandbox_bubblewrap_fails_closed_like_auto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("agents.coding.local.bubblewrap_works", lambda: False)
    config = team_config("http://127.0.0.1:9/v1", code_execution={**CODE, "sandbox": "bubblewrap"})
    catalog = TeamCatalog()
    catalog.add_file(write(tmp_path / "team.yaml", config), default=True)
    team = catalog.build(None, tmp_path / "work")
    try:
        assert isinstance(team.executor, LocalCommandLineCodeExecutor)
        assert team.refusal == NO_SANDBOX_HERE
    finally:
        asyncio.run(team.close())


def test_a_sandbox_that_does_not_fit_the_executor_or_a_vague_word_is_refused(tmp_path: Path) -> None:
    mixed = problem(tmp_path, team_config("http://x/v1", code_execution={"executor": "docker", "sandbox": "none"}))
    assert "sandbox: none does not go with executor: docker" in mixed
    vague = problem(tmp_path, team_config("http://x/v1", code_execution={"executor": "local", "sandbox": "off"}))
    assert "sandbox" in vague
    assert "'none'" in vague
