"""The ``threadcrew`` command, run as a user runs it: a subprocess, typed input, its output."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.bot.crew import Crew, write_team
from tests.fakes.openai_server import ScriptedOpenAI
from tests.fakes.terminal import THREADCREW, Terminal, clean_env


def run_cli(
    *args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*THREADCREW, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(env),
        cwd=cwd,
        check=False,
    )


def test_the_demo_without_a_model_key_shows_the_whole_flow(tmp_path: Path) -> None:
    env = clean_env({"THREADCREW_DATA_DIR": str(tmp_path / "data")})
    with Terminal(["demo"], env=env, cwd=tmp_path) as term:
        term.expect("built-in scripted demo model")
        term.expect("you: Chart the first ten square numbers for me.")
        term.expect("Planner:")
        term.expect("Calling `squares` with:")  # the coder's tool call, run by the runner
        term.expect("Tool result:\n```\n[1,4,9,16,25,36,49,64,81,100]\n```")
        term.expect("runner wants to run the code above (python, 13 lines).")
        term.expect("[1] Approve  [2] Reject")
        term.type("1")
        term.expect("Approved by you.")
        term.expect("Ran the code: 0 (execution succeeded)")
        chart = tmp_path / "data" / "demo" / "files" / "squares.svg"
        term.expect(f"[file: {chart}]")
        term.expect("is this what you wanted")
        term.expect("The team is waiting for you")
        term.type("Yes, that is it.")
        term.expect("TERMINATE")
        assert term.end_input() == 0, term.stderr
    assert chart.read_text().startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert chart.read_text().count("<rect") == 10
    for persona in ("Planner:", "Coder:", "Runner:", "Reviewer:"):
        assert persona in term.output
    assert "Traceback" not in term.output + term.stderr


def test_the_demo_uses_the_model_at_openai_base_url(tmp_path: Path) -> None:
    crew = Crew()
    with ScriptedOpenAI(responder=crew) as server:
        crew.after.update({"user": "planner", "planner": "reviewer"})
        crew.say("reviewer", "All done. TERMINATE")
        env = {"THREADCREW_DATA_DIR": str(tmp_path / "data"), "OPENAI_BASE_URL": server.base_url}
        done = run_cli("demo", "-m", "What is 6 times 7?", env={**env, "THREADCREW_MODEL": "my-model"}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "scripted demo model" not in done.stdout
    assert "All done. TERMINATE" in done.stdout
    # The demo team's prompts went to the configured model, with the task as the people's message.
    first = server.requests[0].body
    assert first["model"] == "my-model"
    assert {"role": "user", "name": "user", "content": "What is 6 times 7?"} in first["messages"]


def test_run_keeps_the_console_thread_across_runs_and_transcripts_show_it(tmp_path: Path) -> None:
    crew = Crew()
    with ScriptedOpenAI(responder=crew) as server:
        team = write_team(tmp_path / "crew.yaml", server.base_url)
        env = {"THREADCREW_DATA_DIR": str(tmp_path / "data")}
        first = run_cli("run", "--team", str(team), stdin="chart the squares\n", env=env, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert "The team is waiting for you" in first.stdout
        # A new process: the reply answers the question the last one left.
        second = run_cli("run", "--team", str(team), stdin="yes, ship it\n", env=env, cwd=tmp_path)
        assert second.returncode == 0, second.stderr
    assert "Looks complete. TERMINATE" in second.stdout
    assert "planner on 'chart the squares'" not in second.stdout  # nothing is printed twice

    listed = run_cli("transcript", "list", env=env, cwd=tmp_path)
    assert "finished" in listed.stdout
    assert "console:local:terminal:main" in listed.stdout
    shown = run_cli("transcript", "show", "console", env=env, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "[1] you (as user)" in shown.stdout
    assert "planner on 'chart the squares'" in shown.stdout
    exported = run_cli("transcript", "export", "1", "-o", str(tmp_path / "t.json"), env=env, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    document = json.loads((tmp_path / "t.json").read_text())
    assert document["conversation"]["status"] == "finished"
    assert [m["author_id"] for m in document["messages"]][:2] == ["you", "planner"]
    assert document["messages"][-1]["content"] == "Looks complete. TERMINATE"
    missing = run_cli("transcript", "show", "slack:T1:C1:123.4", env=env, cwd=tmp_path)
    assert missing.returncode == 1
    assert "no conversation in the thread slack:T1:C1:123.4; `threadcrew transcript list` shows them" in missing.stderr


def test_teams_validate_reports_a_good_file_and_explains_a_bad_one(tmp_path: Path) -> None:
    team = write_team(tmp_path / "crew.yaml", "http://127.0.0.1:9/v1")
    good = run_cli("teams", "validate", str(team), cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert "team 'crew' is valid: agents planner, coder, reviewer" in good.stdout
    bad = write_team(tmp_path / "bad.yaml", "http://127.0.0.1:9/v1", group_chat={"max_rounds": 5})
    refused = run_cli("teams", "validate", str(bad), cwd=tmp_path)
    assert refused.returncode == 1
    assert refused.stderr == (
        f"error: {bad}: group_chat.max_rounds: is not a setting here (a typo?); remove it or check the spelling\n"
    )
    started = run_cli("run", "--team", str(bad), cwd=tmp_path, env={"THREADCREW_DATA_DIR": str(tmp_path / "d")})
    assert started.returncode == 1
    assert "group_chat.max_rounds: is not a setting here" in started.stderr


def test_unknown_and_unbuilt_platforms_and_bad_settings_are_refused_clearly(tmp_path: Path) -> None:
    unknown = run_cli("run", "--platform", "teams", cwd=tmp_path)
    assert unknown.returncode == 2
    assert "there is no platform 'teams'; use one of console, slack, discord" in unknown.stderr
    bad = run_cli("run", cwd=tmp_path, env={"THREADCREW_STEP_TIMEOUT": "soon"})
    assert bad.returncode == 2
    assert "THREADCREW_STEP_TIMEOUT: Input should be a valid number" in bad.stderr


def test_db_upgrade_migrates_the_default_sqlite_database_in_the_data_dir(tmp_path: Path) -> None:
    env = {"THREADCREW_DATA_DIR": str(tmp_path / "data")}
    before = run_cli("db", "current", env=env, cwd=tmp_path)
    assert before.returncode == 0, before.stderr
    assert "at no migration (empty)" in before.stdout
    assert "behind: run `threadcrew db upgrade`" in before.stdout
    done = run_cli("db", "upgrade", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "migrated from an empty database to" in done.stdout
    assert (tmp_path / "data" / "threadcrew.db").exists()
    again = run_cli("db", "upgrade", env=env, cwd=tmp_path)
    assert "nothing to do" in again.stdout
    assert "(up to date)" in run_cli("db", "current", env=env, cwd=tmp_path).stdout


def test_a_configured_database_that_is_behind_stops_the_bot_with_the_command_to_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'configured.db'}"
    done = run_cli("run", env={"THREADCREW_DATABASE_URL": url, "THREADCREW_DATA_DIR": str(tmp_path)}, cwd=tmp_path)
    assert done.returncode == 1
    assert "is empty, and this threadcrew needs migration" in done.stderr
    assert "run `threadcrew db upgrade`" in done.stderr
    assert "Traceback" not in done.stderr


def test_db_upgrade_with_an_unsupported_url_says_which_are_supported(tmp_path: Path) -> None:
    done = run_cli("db", "upgrade", env={"THREADCREW_DATABASE_URL": "mysql://x@y/z"}, cwd=tmp_path)
    assert done.returncode == 1
    assert "scheme 'mysql' is not supported: use sqlite:///" in done.stderr
    assert "Traceback" not in done.stderr
