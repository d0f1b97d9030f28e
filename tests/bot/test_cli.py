"""The ``threadcrew`` command, run as a user runs it: a subprocess with stdin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.fakes.openai_server import ScriptedOpenAI, text

CLI = [sys.executable, "-c", "from bot.cli import main; main()"]


def run_cli(*args: str, stdin: str, env: dict[str, str] | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return subprocess.run(
        [*CLI, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, **(env or {})},
        cwd=cwd,
        check=False,
    )


def test_demo_without_a_model_key_runs_the_scripted_model_through_code_execution(tmp_path: Path) -> None:
    done = run_cli("demo", "--work-dir", str(tmp_path), stdin="\n\n", cwd=Path.cwd())
    assert done.returncode == 0, done.stderr
    assert "built-in scripted demo model" in done.stdout
    assert "exitcode: 0 (execution succeeded)" in done.stdout
    assert "sum: 129" in done.stdout
    assert "Summary: The code ran: the first 10 primes add up to 129." in done.stdout
    assert (tmp_path / "primes.py").exists()


def test_run_on_the_console_is_the_demo_and_a_typed_exit_stops_it(tmp_path: Path) -> None:
    done = run_cli("run", "--work-dir", str(tmp_path), stdin="exit\n", cwd=Path.cwd())
    assert done.returncode == 0, done.stderr
    assert "exitcode:" not in done.stdout  # the human stopped it before any code ran


def test_demo_uses_the_model_at_openai_base_url(openai_server: ScriptedOpenAI, tmp_path: Path) -> None:
    openai_server.script(text("```python\nprint(6 * 7)\n```"), text("It is 42. TERMINATE"))
    done = run_cli(
        "demo",
        "-m",
        "What is 6 times 7?",
        "--work-dir",
        str(tmp_path),
        stdin="\n\n",
        env={"OPENAI_BASE_URL": openai_server.base_url, "THREADCREW_MODEL": "gpt-4o-mini"},
        cwd=Path.cwd(),
    )
    assert done.returncode == 0, done.stderr
    assert "scripted demo model" not in done.stdout
    assert "Code output: 42" in done.stdout
    assert "Summary: It is 42." in done.stdout
    assert openai_server.requests[0].body["messages"][1]["content"] == "What is 6 times 7?"


def test_an_unknown_platform_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    done = run_cli("run", "--platform", "teams", stdin="", cwd=Path.cwd())
    assert done.returncode == 2
    assert "platform 'teams' is not available yet; use --platform console" in done.stderr


def test_db_upgrade_migrates_the_default_sqlite_database_in_the_data_dir(tmp_path: Path) -> None:
    env = {"THREADCREW_DATA_DIR": str(tmp_path / "data")}
    before = run_cli("db", "current", stdin="", env=env, cwd=tmp_path)
    assert before.returncode == 0, before.stderr
    assert "at no migration (empty)" in before.stdout
    assert "behind: run `threadcrew db upgrade`" in before.stdout
    done = run_cli("db", "upgrade", stdin="", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "migrated from an empty database to" in done.stdout
    assert (tmp_path / "data" / "threadcrew.db").exists()
    again = run_cli("db", "upgrade", stdin="", env=env, cwd=tmp_path)
    assert "nothing to do" in again.stdout
    assert "(up to date)" in run_cli("db", "current", stdin="", env=env, cwd=tmp_path).stdout


def test_db_upgrade_with_an_unsupported_url_says_which_are_supported(tmp_path: Path) -> None:
    done = run_cli("db", "upgrade", stdin="", env={"THREADCREW_DATABASE_URL": "mysql://x@y/z"}, cwd=tmp_path)
    assert done.returncode == 1
    assert "scheme 'mysql' is not supported: use sqlite:///" in done.stderr
    assert "Traceback" not in done.stderr
