"""DockerCommandLineCodeExecutor on a real Docker engine (``.ci/sandboxes.sh up`` provides one in CI)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from agents import CodeBlock, UserProxyAgent
from agents.coding.docker import DockerCommandLineCodeExecutor, docker_client
from agents.errors import CodeExecutionError
from tests.conftest import require

IMAGE = os.environ.get("THREADCREW_TEST_IMAGE", "threadcrew-python:bookworm")
LABEL = {"label": "threadcrew.executor"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _engine_and_image() -> str | None:
    try:
        client = docker_client()
    except CodeExecutionError as exc:
        return f"no Docker engine: {exc}"
    import docker.errors

    try:
        client.images.get(IMAGE)
    except docker.errors.ImageNotFound:
        return f"the test image {IMAGE} is missing: run .ci/sandboxes.sh up"
    finally:
        client.close()
    return None


@pytest.fixture(scope="module", autouse=True)
def _engine() -> Iterator[None]:
    problem = _engine_and_image()
    require(problem is None, problem or "")
    yield
    # No container may outlive the tests that made it.
    client = docker_client()
    left = client.containers.list(all=True, filters=LABEL)
    client.close()
    assert left == [], f"code containers left behind: {[c.name for c in left]}"


@pytest.fixture
async def executor() -> AsyncIterator[DockerCommandLineCodeExecutor]:
    ex = DockerCommandLineCodeExecutor(image=IMAGE, timeout=10, mem_limit="256m")
    yield ex
    await ex.stop()


async def test_blocks_run_in_one_container_that_is_reused(executor: DockerCommandLineCodeExecutor) -> None:
    first = await executor.a_execute_code_blocks([CodeBlock("# filename: helper.py\nVALUE = 41", "python")])
    container = executor.container_id
    second = await executor.a_execute_code_blocks(
        [CodeBlock("from helper import VALUE; print(VALUE + 1)", "python"), CodeBlock("echo from sh; pwd", "sh")]
    )
    assert first.exit_code == 0
    assert (second.exit_code, second.output) == (0, "42\n\nfrom sh\n/workspace\n")
    assert executor.container_id == container


async def test_the_container_is_locked_down(executor: DockerCommandLineCodeExecutor) -> None:
    code = (
        "import os, socket\n"
        "print('uid', os.getuid())\n"
        "for path in ['/etc/x', '/usr/x', '/x']:\n"
        "    try:\n        open(path, 'w')\n        print('WROTE', path)\n"
        "    except OSError as exc:\n        print('refused', path, exc.errno)\n"
        "try:\n    socket.create_connection(('1.1.1.1', 80), timeout=3)\n    print('CONNECTED')\n"
        "except OSError as exc:\n    print('no network', exc.errno)\n"
        "print('caps', [l for l in open('/proc/self/status') if l.startswith('CapEff')][0].split()[1])\n"
        "print('nnp', [l for l in open('/proc/self/status') if l.startswith('NoNewPrivs')][0].split()[1])\n"
    )
    result = await executor.a_execute_code_blocks([CodeBlock(code, "python")])
    assert "uid 65534" in result.output
    assert result.output.count("refused") == 3
    assert "WROTE" not in result.output
    assert "no network" in result.output
    assert "CONNECTED" not in result.output
    assert "caps 0000000000000000" in result.output
    assert "nnp 1" in result.output
    client = docker_client()
    attrs = client.api.inspect_container(executor.container_id)
    client.close()
    host = attrs["HostConfig"]
    assert (host["NetworkMode"], host["ReadonlyRootfs"], host["Init"], host["PidsLimit"]) == ("none", True, True, 256)
    assert host["Memory"] == 256 * 1024 * 1024
    assert host["NanoCpus"] == 1_000_000_000


async def test_a_timeout_kills_the_run_and_says_so(executor: DockerCommandLineCodeExecutor) -> None:
    executor.timeout = 1
    code = "import subprocess, time\nsubprocess.Popen(['sleep', '300'])\nprint('started', flush=True)\ntime.sleep(300)"
    result = await executor.a_execute_code_blocks([CodeBlock(code, "python")])
    assert result.exit_code == 124
    assert "started" in result.output
    assert "Timeout: the code ran longer than 1 s and was stopped." in result.output
    # The grandchild went with it: only the container's keep-alive sleeps.
    executor.timeout = 10
    listing = (
        "import os\nfor pid in filter(str.isdigit, os.listdir('/proc')):\n"
        "    try: print(open(f'/proc/{pid}/cmdline').read().replace(chr(0), ' ').strip())\n"
        "    except OSError: pass"
    )
    left = await executor.a_execute_code_blocks([CodeBlock(listing, "python")])
    assert "sleep infinity" in left.output
    assert "sleep 300" not in left.output


async def test_an_out_of_memory_kill_is_reported_as_such(executor: DockerCommandLineCodeExecutor) -> None:
    result = await executor.a_execute_code_blocks([CodeBlock("x = bytearray(600 * 1024 * 1024)", "python")])
    assert result.exit_code == 137
    assert "Out of memory: the code used more than 256m and was killed." in result.output


async def test_output_is_capped(executor: DockerCommandLineCodeExecutor) -> None:
    executor.max_output = 1000
    result = await executor.a_execute_code_blocks([CodeBlock("print('B' * 5000); print('the end')", "python")])
    assert result.output.startswith("B" * 500)
    assert result.output.endswith("the end\n")
    assert "... 4009 bytes cut ..." in result.output


async def test_the_hosts_environment_does_not_reach_the_code(
    executor: DockerCommandLineCodeExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-should-not-leak")
    result = await executor.a_execute_code_blocks([CodeBlock("import os; print(dict(os.environ))", "python")])
    assert "should-not-leak" not in result.output


async def test_files_and_a_plot_come_back_and_reach_the_host_work_dir(tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_text("3,4")
    ex = DockerCommandLineCodeExecutor(image=IMAGE, timeout=60, work_dir=tmp_path)
    try:
        code = (
            "import matplotlib.pyplot as plt\n"
            "a, b = map(int, open('data.txt').read().split(','))\n"
            "plt.bar(['a', 'b'], [a, b]); plt.savefig('out/chart.png')\n"
            "open('sum.txt', 'w').write(str(a + b))\n"
        )
        result = await ex.a_execute_code_blocks([CodeBlock("mkdir -p out", "sh"), CodeBlock(code, "python")])
    finally:
        await ex.stop()
    assert result.exit_code == 0, result.output
    files = {f.name: f for f in result.files}
    assert set(files) == {"out/chart.png", "sum.txt"}
    chart = files["out/chart.png"]
    assert chart.mime_type == "image/png"
    assert chart.data is not None
    assert chart.data.startswith(PNG_SIGNATURE)
    assert (tmp_path / "out" / "chart.png").read_bytes() == chart.data
    assert (tmp_path / "sum.txt").read_text() == "7"


async def test_stop_and_idle_remove_the_container() -> None:
    client = docker_client()
    ex = DockerCommandLineCodeExecutor(image=IMAGE, timeout=10)
    await ex.a_execute_code_blocks([CodeBlock("print(1)", "python")])
    assert [c.id for c in client.containers.list(filters=LABEL)] == [ex.container_id]
    await ex.stop()
    assert client.containers.list(all=True, filters=LABEL) == []

    idle = DockerCommandLineCodeExecutor(image=IMAGE, timeout=10, idle_timeout=0.2)
    await idle.a_execute_code_blocks([CodeBlock("print(1)", "python")])
    deadline = time.monotonic() + 15
    while idle.container_id is not None:
        assert time.monotonic() < deadline, "the idle container was not removed"
        await asyncio.sleep(0.05)
    assert client.containers.list(all=True, filters=LABEL) == []
    client.close()


async def test_restart_starts_over_with_an_empty_workspace(executor: DockerCommandLineCodeExecutor) -> None:
    await executor.a_execute_code_blocks([CodeBlock("open('state.txt', 'w').write('x')", "python")])
    await executor.a_restart()
    result = await executor.a_execute_code_blocks(
        [CodeBlock("import os; print(os.path.exists('state.txt'))", "python")]
    )
    assert result.output == "False\n"


async def test_an_unreachable_engine_names_docker_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")
    ex = DockerCommandLineCodeExecutor(image=IMAGE)
    with pytest.raises(CodeExecutionError, match=r"no Docker engine answers at tcp://127.0.0.1:9 .*DOCKER_HOST"):
        await ex.a_execute_code_blocks([CodeBlock("print(1)", "python")])
    await ex.stop()


async def test_a_missing_image_says_what_to_do() -> None:
    ex = DockerCommandLineCodeExecutor(image="threadcrew-no-such-image:never")
    with pytest.raises(CodeExecutionError, match="is not on the Docker engine and cannot be pulled"):
        await ex.a_execute_code_blocks([CodeBlock("print(1)", "python")])
    await ex.stop()


async def test_the_event_loop_keeps_running_while_code_runs(executor: DockerCommandLineCodeExecutor) -> None:
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    await executor.a_execute_code_blocks([CodeBlock("import time; time.sleep(1)", "python")])
    stop.set()
    await task
    assert ticks > 20  # the loop was free while the engine worked


async def test_legacy_use_docker_builds_a_docker_executor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THREADCREW_CODE_IMAGE", IMAGE)
    monkeypatch.delenv("AUTOGEN_USE_DOCKER", raising=False)
    user = UserProxyAgent("user", human_input_mode="NEVER")
    executor = user.code_executor
    assert isinstance(executor, DockerCommandLineCodeExecutor)
    try:
        reply = await user.a_generate_reply([{"role": "user", "content": "```python\nprint('in docker')\n```"}])
    finally:
        await executor.stop()
    assert reply == "exitcode: 0 (execution succeeded)\nCode output: in docker\n"


def test_the_sync_calls_reuse_the_container_across_their_event_loops() -> None:
    executor = DockerCommandLineCodeExecutor(image=IMAGE, timeout=10, mem_limit="256m")
    try:
        first = executor.execute_code_blocks([CodeBlock(code="open('kept.txt', 'w').write('x')", language="Python")])
        container = executor.container_id
        second = executor.execute_code_blocks(
            [CodeBlock(code="import os; print(os.path.exists('kept.txt'))", language="py")]
        )
        assert (first.exit_code, second.output, executor.container_id) == (0, "True\n", container)
        assert second.code_file is not None
        assert second.code_file.startswith("/workspace/")
        executor.restart()
        third = executor.execute_code_blocks([CodeBlock(code="ls kept.txt || echo gone", language="bash")])
        assert third.output.endswith("gone\n")
    finally:
        asyncio.run(executor.stop())
