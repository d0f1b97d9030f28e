"""Code extraction, the local executor (bubblewrap when it works), and the agents' code reply."""

from __future__ import annotations

import asyncio
import fcntl
import io
import os
import socket
import tarfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agents import (
    CodeBlock,
    ConfigurationError,
    LocalCommandLineCodeExecutor,
    UserProxyAgent,
    extract_code_blocks,
)
from agents.coding.local import bubblewrap_works
from tests.conftest import require
from tests.fakes.agents import agent
from tests.fakes.openai_server import ScriptedOpenAI, text

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_code_blocks_are_extracted_with_languages_normalised_or_inferred() -> None:
    markdown = (
        "Run this:\n```python\nprint(1)\n```\nthen\n```bash\nls -l\n```\n"
        "and\n```\nx = 2\nprint(x)\n```\n```\npip install numpy\n```\n```\nthis is { not code\n```"
    )
    assert extract_code_blocks(markdown) == [
        CodeBlock("print(1)", "python"),
        CodeBlock("ls -l", "sh"),
        CodeBlock("x = 2\nprint(x)", "python"),
        CodeBlock("pip install numpy", "sh"),
        CodeBlock("this is { not code", "unknown"),
    ]
    assert extract_code_blocks("no code at all") == []


@pytest.fixture
async def executor(tmp_path: Path) -> AsyncIterator[LocalCommandLineCodeExecutor]:
    ex = LocalCommandLineCodeExecutor(timeout=10, work_dir=tmp_path / "work")
    yield ex
    await ex.stop()


async def test_python_and_sh_blocks_run_in_the_work_dir(executor: LocalCommandLineCodeExecutor) -> None:
    result = await executor.a_execute_code_blocks(
        [CodeBlock("print('hello from python')", "python"), CodeBlock("pwd; echo from sh", "sh")]
    )
    assert result.exit_code == 0
    assert result.output == f"hello from python\n\n{executor.work_dir.resolve()}\nfrom sh\n"


async def test_a_failing_block_stops_the_rest(executor: LocalCommandLineCodeExecutor) -> None:
    result = await executor.a_execute_code_blocks(
        [CodeBlock("raise SystemExit(3)", "python"), CodeBlock("print('never')", "python")]
    )
    assert result.exit_code == 3
    assert "never" not in result.output


async def test_filename_convention_saves_the_file_and_must_stay_inside(executor: LocalCommandLineCodeExecutor) -> None:
    result = await executor.a_execute_code_blocks([CodeBlock("# filename: lib/tool.py\nprint('saved')", "python")])
    assert result.output == "saved\n"
    assert (executor.work_dir / "lib" / "tool.py").read_text().startswith("# filename: lib/tool.py")
    escape = await executor.a_execute_code_blocks([CodeBlock("# filename: ../../evil.py\nprint(1)", "python")])
    assert escape.exit_code == 1
    assert "outside the work dir" in escape.output
    assert not (executor.work_dir.parent.parent / "evil.py").exists()


async def test_unknown_language_is_reported(executor: LocalCommandLineCodeExecutor) -> None:
    result = await executor.a_execute_code_blocks([CodeBlock("console.log(1)", "javascript")])
    assert (result.exit_code, result.output) == (
        1,
        "unknown language 'javascript': only python and sh code blocks run here",
    )


async def test_timeout_kills_the_block_and_its_grandchildren(executor: LocalCommandLineCodeExecutor) -> None:
    executor.timeout = 1
    lock = executor.work_dir / "held.lock"
    code = (
        "import fcntl, os, subprocess, sys, time\n"
        'holder = \'import fcntl, time; f = open("held.lock", "w"); fcntl.flock(f, fcntl.LOCK_EX); '
        'print("locked", flush=True); time.sleep(60)\'\n'
        "child = subprocess.Popen([sys.executable, '-c', holder], start_new_session=False)\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    result = await executor.a_execute_code_blocks([CodeBlock(code, "python")])
    assert result.exit_code == 124
    assert "Timeout: the code ran longer than 1 s and was stopped." in result.output
    assert "locked" in result.output
    assert time.monotonic() - started < 30
    # The grandchild held a lock on a file: once it is dead, the lock is free.
    await _lock_frees_up(lock)


async def _lock_frees_up(path: Path, within: float = 10) -> None:
    deadline = time.monotonic() + within
    with path.open("a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"a process the timed-out code started still holds {path.name}")
                await asyncio.sleep(0.05)


async def test_output_is_capped_with_a_marker(tmp_path: Path) -> None:
    ex = LocalCommandLineCodeExecutor(timeout=10, work_dir=tmp_path, max_output=1000)
    result = await ex.a_execute_code_blocks([CodeBlock("print('A' * 5000); print('the end')", "python")])
    assert result.exit_code == 0
    assert result.output.startswith("A" * 500)
    assert result.output.endswith("the end\n")
    assert "... 4009 bytes cut ..." in result.output
    assert len(result.output) < 1100


async def test_the_environment_is_scrubbed_of_keys_and_tokens(
    executor: LocalCommandLineCodeExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-should-not-leak")
    monkeypatch.setenv("THREADCREW_SLACK_BOT_TOKEN", "xoxb-should-not-leak")
    result = await executor.a_execute_code_blocks([CodeBlock("import os; print(sorted(os.environ.items()))", "python")])
    assert result.exit_code == 0
    assert "should-not-leak" not in result.output
    assert "'HOME'" in result.output


async def test_files_the_code_writes_come_back_and_a_plot_is_a_png(executor: LocalCommandLineCodeExecutor) -> None:
    (executor.work_dir / "input.csv").write_text("x,y\n1,2\n")
    code = (
        "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        "plt.plot([1, 2, 3], [1, 4, 9])\nplt.savefig('plot.png')\n"
        "open('notes.txt', 'w').write(open('input.csv').read().upper())\n"
    )
    result = await executor.a_execute_code_blocks([CodeBlock(code, "python")])
    assert result.exit_code == 0, result.output
    files = {f.name: f for f in result.files}
    assert set(files) == {"plot.png", "notes.txt"}  # the unchanged input and the code file are not news
    plot = files["plot.png"]
    assert plot.mime_type == "image/png"
    assert plot.data is not None
    assert plot.data.startswith(PNG_SIGNATURE)
    assert plot.size == len(plot.data)
    assert files["notes.txt"].data == b"X,Y\n1,2\n"


async def test_files_over_the_cap_come_back_without_their_bytes(tmp_path: Path) -> None:
    ex = LocalCommandLineCodeExecutor(timeout=10, work_dir=tmp_path, max_file_bytes=100)
    result = await ex.a_execute_code_blocks([CodeBlock("open('big.bin', 'wb').write(b'0' * 1000)", "python")])
    [big] = result.files
    assert (big.name, big.size, big.data) == ("big.bin", 1000, None)


class TestBubblewrap:
    @pytest.fixture(autouse=True)
    def _need_bubblewrap(self) -> None:
        require(bubblewrap_works(), "bubblewrap (bwrap) is not installed or cannot create namespaces here")

    async def test_code_runs_as_an_unprivileged_user(self, executor: LocalCommandLineCodeExecutor) -> None:
        assert executor.sandboxed
        result = await executor.a_execute_code_blocks([CodeBlock("import os; print(os.getuid())", "python")])
        assert result.output == "65534\n"

    async def test_network_connections_fail(self, executor: LocalCommandLineCodeExecutor) -> None:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        try:
            code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=3)\nprint('connected')"
            result = await executor.a_execute_code_blocks([CodeBlock(code, "python")])
        finally:
            listener.close()
        assert result.exit_code != 0
        assert "connected" not in result.output
        assert "ConnectionRefusedError" in result.output or "Network is unreachable" in result.output

    async def test_writes_outside_the_work_dir_fail(self, executor: LocalCommandLineCodeExecutor) -> None:
        outside = executor.work_dir.parent / "outside.txt"
        code = (
            f"for path in ['/etc/escape.txt', '/usr/escape.txt', {str(outside)!r}]:\n"
            "    try:\n        open(path, 'w').write('x')\n        print('WROTE', path)\n"
            "    except OSError as exc:\n        print('refused', path, exc.errno)\n"
        )
        result = await executor.a_execute_code_blocks([CodeBlock(code, "python")])
        assert "WROTE" not in result.output
        assert result.output.count("refused") == 3
        assert not outside.exists()
        assert not Path("/etc/escape.txt").exists()

    def test_sandbox_true_is_honoured(self, tmp_path: Path) -> None:
        assert LocalCommandLineCodeExecutor(work_dir=tmp_path, sandbox=True).sandboxed


def test_sandbox_true_without_bubblewrap_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("agents.coding.local.bubblewrap_works", lambda: False)
    with pytest.raises(ConfigurationError, match="sandbox=True needs bubblewrap"):
        LocalCommandLineCodeExecutor(work_dir=tmp_path, sandbox=True)


def test_without_bubblewrap_the_executor_warns_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from agents.coding import local

    monkeypatch.setattr(local, "bubblewrap_works", lambda: False)
    local._warn_unsandboxed.cache_clear()
    first = LocalCommandLineCodeExecutor(work_dir=tmp_path / "a")
    LocalCommandLineCodeExecutor(work_dir=tmp_path / "b")
    assert not first.sandboxed
    warnings = [r for r in caplog.records if "run unsandboxed" in r.getMessage()]
    assert len(warnings) == 1


async def test_user_proxy_runs_the_assistants_code_and_reports_in_autogens_format(
    openai_server: ScriptedOpenAI, tmp_path: Path
) -> None:
    from agents import AssistantAgent

    openai_server.script(text("```python\nprint(6 * 7)\n```"), text("```python\nraise ValueError('bad')\n```"), "ok")
    assistant = AssistantAgent("assistant", llm_config=openai_server.llm_config())
    user = UserProxyAgent(
        "user",
        human_input_mode="NEVER",
        code_execution_config={"work_dir": str(tmp_path), "use_docker": False, "timeout": 20},
    )
    result = await user.a_initiate_chat(assistant, message="compute", max_turns=3, silent=True)
    replies = [m["content"] for m in result.chat_history if m.get("name") == "user"]
    assert replies[1] == "exitcode: 0 (execution succeeded)\nCode output: 42\n"
    assert replies[2].startswith("exitcode: 1 (execution failed)\nCode output: Traceback")
    assert "ValueError: bad" in replies[2]
    assert isinstance(user.code_executor, LocalCommandLineCodeExecutor)
    assert user.code_executor.work_dir == tmp_path


def test_legacy_docker_default_without_an_engine_says_how_to_run_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    monkeypatch.delenv("AUTOGEN_USE_DOCKER", raising=False)
    with pytest.raises(ConfigurationError) as caught:
        UserProxyAgent("user")
    message = str(caught.value)
    assert "no Docker engine answers at unix:///nonexistent/docker.sock" in message
    assert "'use_docker': False" in message
    monkeypatch.setenv("AUTOGEN_USE_DOCKER", "false")
    assert isinstance(UserProxyAgent("user").code_executor, LocalCommandLineCodeExecutor)


def test_executor_shortcut_and_bad_executor() -> None:
    assert isinstance(
        agent("a", code_execution_config={"executor": "commandline-local"}).code_executor, LocalCommandLineCodeExecutor
    )
    with pytest.raises(ConfigurationError, match="must be a CodeExecutor"):
        agent("a", code_execution_config={"executor": object()})


def test_environment_outside_the_test_is_untouched() -> None:
    assert "sk-secret-should-not-leak" not in os.environ.get("OPENAI_API_KEY", "")


def _tar(members: list[tuple[tarfile.TarInfo, bytes]]) -> list[bytes]:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            archive.addfile(info, io.BytesIO(data) if info.isreg() else None)
    raw = buffer.getvalue()
    return [raw[i : i + 700] for i in range(0, len(raw), 700)]  # arrives in chunks, as from the engine


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


def test_an_archive_from_the_engine_is_not_trusted(tmp_path: Path) -> None:
    from agents.coding._files import gather_tar, write_inside
    from agents.coding.limits import FileCaps

    members = [
        (_member("workspace/ok.txt"), b"fine"),
        (_member("workspace/../escape.txt"), b"x"),
        (_member("/etc/passwd"), b"x"),
        (_member("elsewhere/ok.txt"), b"x"),
        (_member("workspace/link", tarfile.SYMTYPE, "/etc/passwd"), b""),
        (_member("workspace/hard", tarfile.LNKTYPE, "workspace/ok.txt"), b""),
        (_member("workspace/dev", tarfile.CHRTYPE), b""),
        *[(_member(f"workspace/many{i:02}.txt"), b"m" * 10) for i in range(30)],
        (_member("workspace/big.bin"), b"b" * 500),
    ]
    gathered = gather_tar(_tar(members), "workspace", {}, set(), FileCaps(max_files=5, max_file_bytes=100))
    names = [f.name for f in gathered.files]
    assert names[0] == "ok.txt"
    assert len(names) == 5
    assert not any(".." in n or n.startswith("/") or n in ("link", "hard", "dev") for n in names)
    notes = "\n".join(gathered.notes())
    assert "left out, not plain files" in notes
    assert "link, hard, dev" in notes
    assert "more new file(s) left out (at most 5 come back)" in notes
    # Only what may be written lands on the host, never through a link that is there already.
    (tmp_path / "trap").symlink_to(tmp_path / "victim.txt")
    assert not write_inside(tmp_path, "trap", b"x")
    assert not write_inside(tmp_path, "../x", b"x")
    assert not (tmp_path / "victim.txt").exists()
    (tmp_path / "dir-trap").symlink_to(tmp_path.parent)
    assert not write_inside(tmp_path, "dir-trap/x.txt", b"x")
    assert write_inside(tmp_path, "sub/ok.txt", b"ok")
    assert (tmp_path / "sub" / "ok.txt").read_bytes() == b"ok"
