"""Team files: what a good one builds, and what a bad one says (the file, the key, the fix)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from agents import AssistantAgent, GroupChatManager, LocalCommandLineCodeExecutor
from bot.demo import DEMO_TEAM_FILE, demo_team_config
from bot.errors import TeamConfigError
from bot.team_config import load_team_config
from bot.teams import Team, TeamCatalog, build_team
from tests.bot.crew import team_config


def write(path: Path, config: dict[str, Any] | str) -> Path:
    path.write_text(config if isinstance(config, str) else yaml.safe_dump(config, sort_keys=False))
    return path


def problem(tmp_path: Path, config: dict[str, Any] | str) -> str:
    file = write(tmp_path / "team.yaml", config)
    with pytest.raises(TeamConfigError) as caught:
        TeamCatalog().add_file(file)
    return str(caught.value)


def test_a_team_file_builds_the_whole_team(tmp_path: Path) -> None:
    config = team_config("http://127.0.0.1:9/v1", approvers=["U1"], budget={"max_tokens": 1000, "max_rounds": 9})
    catalog = TeamCatalog()
    catalog.add_file(write(tmp_path / "team.yaml", config), default=True)
    team: Team = catalog.build(None, tmp_path / "work")
    try:
        assert isinstance(team.manager, GroupChatManager)
        names = [a.name for a in team.manager.groupchat.agents]
        assert names == ["user", "runner", "planner", "coder", "reviewer"]
        coder = team.manager.groupchat.agent_by_name("coder")
        assert isinstance(coder, AssistantAgent)
        assert coder.llm_config["tools"][0]["function"]["name"] == "word_count"
        assert team.runner is not None
        assert "word_count" in team.runner.function_map
        assert isinstance(team.executor, LocalCommandLineCodeExecutor)
        assert team.executor.work_dir == tmp_path / "work"
        assert team.persona("planner").display_name == "Plan Bot"
        assert (team.may_approve("U1"), team.may_approve("U2")) == (True, False)
        assert (team.budget.max_tokens, team.budget.max_rounds) == (1000, 9)
    finally:
        import asyncio

        asyncio.run(team.close())


def test_environment_variables_fill_in_and_may_have_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREW_KEY", "sk-from-env")
    monkeypatch.delenv("CREW_URL", raising=False)
    config = team_config("${CREW_URL:-http://127.0.0.1:9/v1}")
    config["models"]["default"]["api_key"] = "${CREW_KEY}"
    loaded = load_team_config(write(tmp_path / "team.yaml", config))
    assert loaded.models["default"].api_key == "sk-from-env"
    assert loaded.models["default"].base_url == "http://127.0.0.1:9/v1"


def test_a_missing_environment_variable_names_the_key_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CREW_KEY", raising=False)
    config = team_config("http://127.0.0.1:9/v1")
    config["models"]["default"]["api_key"] = "${CREW_KEY}"
    message = problem(tmp_path, config)
    assert message == (
        f"{tmp_path / 'team.yaml'}: models.default.api_key: the environment variable CREW_KEY is not set; "
        "set it, or write ${CREW_KEY:-default} to give a default"
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda c: c["agents"][1].update(modle="gpt-4o"),
            "agents[1] (coder).modle: is not a setting here (a typo?); remove it or check the spelling",
        ),
        (
            lambda c: c["agents"][2].update(model="fast"),
            "agents[2] (reviewer).model: no model 'fast' in models (default)",
        ),
        (
            lambda c: c["agents"][0].pop("name"),
            "agents[0].name: is required; add it",
        ),
        (
            lambda c: c.update(group_chat={"speaker_selection": "loudest"}),
            "group_chat.speaker_selection: use one of auto, round_robin, random, manual",
        ),
        (
            lambda c: c["models"]["default"].pop("model"),
            "models.default: give 'model' (e.g. gpt-4o-mini), or 'scripted: demo' for the built-in demo model",
        ),
        (
            lambda c: c["agents"].append({"name": "planner"}),
            "the file: agent names must be unique; repeated: planner",
        ),
        (
            lambda c: c.update(group_chat={"transitions": {"planner": ["tester"]}}),
            "group_chat.transitions.planner: 'tester' is not an agent of the team",
        ),
        (
            lambda c: c["code_execution"].update(executor="kubernetes"),
            "code_execution.executor: Input should be 'local', 'docker' or 'none'",
        ),
        (
            lambda c: c["agents"][1].update(tools=["tests.bot.crew:no_such_tool"]),
            "agents[1] (coder).tools[0]: cannot import 'tests.bot.crew:no_such_tool'",
        ),
        (
            lambda c: c["agents"][1].update(tools=["word_count"]),
            "agents[1] (coder).tools[0]: 'word_count' is not an import path; write 'package.module:function'",
        ),
        (
            lambda c: c["agents"][0].update(name="the planner"),
            "agents[0] (the planner).name: agent name 'the planner' is not accepted by the model API: it may not "
            "contain whitespace or any of < | \\ / >; try 'the_planner'",
        ),
    ],
    ids=[
        "typo",
        "unknown-model",
        "missing-name",
        "bad-selection",
        "no-model",
        "repeated-name",
        "unknown-agent",
        "bad-executor",
        "missing-tool",
        "not-an-import-path",
        "bad-agent-name",
    ],
)
def test_a_bad_team_file_names_the_file_the_key_and_the_fix(tmp_path: Path, change: Any, expected: str) -> None:
    config = team_config("http://127.0.0.1:9/v1")
    change(config)
    message = problem(tmp_path, config)
    assert message.startswith(f"{tmp_path / 'team.yaml'}: ")
    assert expected in message


def test_files_that_are_not_team_files_say_so(tmp_path: Path) -> None:
    assert problem(tmp_path, "name: [unclosed\n").startswith(f"{tmp_path / 'team.yaml'}: not valid YAML:")
    assert problem(tmp_path, "- a list\n") == (
        f"{tmp_path / 'team.yaml'}: a team file is a mapping with name, models and agents at the top"
    )
    with pytest.raises(TeamConfigError, match="no such team file; pass the path of a YAML team file"):
        TeamCatalog().add_file(tmp_path / "missing.yaml")


def test_a_team_can_be_built_in_python_and_registered(tmp_path: Path) -> None:
    def factory(work_dir: Path) -> Team:
        config = load_team_config(write(tmp_path / "t.yaml", team_config("http://127.0.0.1:9/v1", name="py")))
        return build_team(config, work_dir)

    catalog = TeamCatalog()
    catalog.register("py", factory)
    assert catalog.default == "py"
    team = catalog.build("py", tmp_path / "w")
    assert team.name == "py"
    with pytest.raises(TeamConfigError, match=r"no team named 'other'; known teams: py"):
        catalog.build("other", tmp_path / "w")


def test_the_demo_team_uses_the_scripted_model_unless_a_real_one_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "THREADCREW_MODEL"):
        monkeypatch.delenv(name, raising=False)
    config, scripted = demo_team_config()
    assert scripted
    assert config.models["default"].scripted == "demo"
    assert [a.name for a in config.agents] == ["planner", "coder", "reviewer"]
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("THREADCREW_MODEL", "llama3")
    config, scripted = demo_team_config()
    assert not scripted
    assert (config.models["default"].model, config.models["default"].base_url) == ("llama3", "http://127.0.0.1:9/v1")
    assert load_team_config(DEMO_TEAM_FILE).name == "demo"


def test_who_may_start_and_approve_is_named_by_user_ids_or_discord_role_ids(tmp_path: Path) -> None:
    config = team_config("http://127.0.0.1:9/v1", starters=["U1", "400"], approvers=["500"])
    catalog = TeamCatalog()
    catalog.add_file(write(tmp_path / "team.yaml", config), default=True)
    team = catalog.build(None, tmp_path / "work")
    try:
        assert [team.may_start("U1"), team.may_start("U2", ["400"]), team.may_start("U2", ["401"])] == [
            True,
            True,
            False,
        ]
        assert [team.may_approve("U9", ["500"]), team.may_approve("500"), team.may_approve("U1", ["400"])] == [
            True,
            True,
            False,
        ]
    finally:
        import asyncio

        asyncio.run(team.close())
