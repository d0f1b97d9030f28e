"""Code executors as AutoGen 0.2 users call them: plain sync calls, isinstance, loose languages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agents import CodeBlock, CodeExecutor, CodeResult, LocalCommandLineCodeExecutor, MarkdownCodeExtractor
from agents.coding import CodeExtractor
from agents.coding.local import bubblewrap_works
from tests.conftest import require


def test_execute_code_blocks_is_a_plain_call_returning_the_result_with_its_code_file(tmp_path: Path) -> None:
    executor = LocalCommandLineCodeExecutor(timeout=10, work_dir=tmp_path)
    result = executor.execute_code_blocks(
        code_blocks=[CodeBlock(language="python", code="print('hello')"), CodeBlock(language="sh", code="echo two")]
    )
    assert isinstance(result, CodeResult)
    assert (result.exit_code, result.output) == (0, "hello\n\ntwo\n")
    assert result.code_file is not None
    assert Path(result.code_file).read_text() == "echo two"
    assert Path(result.code_file).parent == tmp_path.resolve()


async def test_the_sync_call_also_works_inside_a_running_event_loop(tmp_path: Path) -> None:
    executor = LocalCommandLineCodeExecutor(timeout=10, work_dir=tmp_path)
    result = executor.execute_code_blocks([CodeBlock(code="print(6 * 7)", language="python")])
    assert result.output == "42\n"
    same = await executor.a_execute_code_blocks([CodeBlock(code="print(6 * 7)", language="python")])
    assert same.output == result.output


def test_restart_is_a_plain_call(tmp_path: Path) -> None:
    executor = LocalCommandLineCodeExecutor(timeout=10, work_dir=tmp_path)
    assert executor.restart() is None


class MyExecutor:
    """An executor written as an AutoGen user writes one: everything synchronous."""

    @property
    def code_extractor(self) -> CodeExtractor:
        return MarkdownCodeExtractor()

    def execute_code_blocks(self, code_blocks: list[CodeBlock]) -> CodeResult:
        return CodeResult(exit_code=0, output=" ".join(b.language for b in code_blocks))

    def restart(self) -> None:
        pass


def test_isinstance_code_executor_works_for_ours_and_for_user_written_ones(tmp_path: Path) -> None:
    assert isinstance(LocalCommandLineCodeExecutor(work_dir=tmp_path), CodeExecutor)
    assert isinstance(MyExecutor(), CodeExecutor)
    assert not isinstance(object(), CodeExecutor)
    assert isinstance(LocalCommandLineCodeExecutor(work_dir=tmp_path).code_extractor, CodeExtractor)


def test_a_user_written_sync_executor_runs_the_agents_code(tmp_path: Path) -> None:
    from agents import UserProxyAgent

    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config={"executor": MyExecutor()})
    reply = user.generate_reply(messages=[{"role": "user", "content": "```bash\nls\n```\n```Python\nx = 1\n```"}])
    assert reply == "exitcode: 0 (execution succeeded)\nCode output: sh python"


@pytest.mark.parametrize(
    ("language", "code", "expected"),
    [
        ("bash", "echo $((1 + 2))", "3\n"),
        ("shell", "echo shell", "shell\n"),
        ("py", "print('py')", "py\n"),
        ("Python", "print('Python')", "Python\n"),
    ],
)
def test_hand_built_blocks_with_loose_language_names_run(
    tmp_path: Path, language: str, code: str, expected: str
) -> None:
    block = CodeBlock(code=code, language=language)
    assert block.language in ("python", "sh")
    result = LocalCommandLineCodeExecutor(timeout=10, work_dir=tmp_path).execute_code_blocks([block])
    assert (result.exit_code, result.output) == (0, expected)


def test_markdown_code_extractor_reads_strings_and_content_parts() -> None:
    extractor = MarkdownCodeExtractor()
    text = "Here:\n```Python\nprint(1)\n```\n"
    assert extractor.extract_code_blocks(text) == [CodeBlock(code="print(1)", language="python")]
    assert extractor.extract_code_blocks([{"type": "text", "text": text}]) == [CodeBlock("print(1)", "python")]
    assert extractor.extract_code_blocks(None) == []


@pytest.fixture(scope="module")
def other_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv that is not the one running the tests (its python links to the base installation)."""
    root = tmp_path_factory.mktemp("venvs") / "other"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    return root


def test_a_python_path_with_dotdot_starts_under_bubblewrap(
    other_venv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require(bubblewrap_works(), "bubblewrap is not installed or cannot create namespaces here")
    code = [CodeBlock(code="import sys; print(sys.prefix)", language="python")]
    absolute = os.path.join(other_venv, "bin", "..", "bin", "python")
    ran = LocalCommandLineCodeExecutor(work_dir=tmp_path / "a", python=absolute, sandbox=True).execute_code_blocks(code)
    assert (ran.exit_code, ran.output) == (0, f"{other_venv}\n")
    monkeypatch.chdir(other_venv / "bin")
    relative = os.path.join("..", "bin", "python")
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path / "b", python=relative, sandbox=True)
    ran = executor.execute_code_blocks(code)
    assert (ran.exit_code, ran.output) == (0, f"{other_venv}\n")
