"""Every attack through the Docker executor, on a real engine (and under gVisor where the engine has it)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from agents import CodeBlock
from agents.coding.docker import DockerCommandLineCodeExecutor, docker_client
from tests.agents.test_docker_executor import IMAGE, LABEL, _engine_and_image
from tests.conftest import require

from .attacks import ALL, Bot, check, code
from .conftest import LIMITS

PREFIX = "threadcrew-hostile-"


@pytest.fixture(scope="module", autouse=True)
def _engine() -> Iterator[None]:
    problem = _engine_and_image()
    require(problem is None, problem or "")
    yield
    # Only ours: other test runs may share the engine.
    client = docker_client()
    containers = [c.name for c in client.containers.list(all=True, filters=LABEL) if c.name.startswith(PREFIX)]
    volumes = [v.name for v in client.volumes.list(filters=LABEL) if v.name.startswith(PREFIX)]
    client.close()
    assert (containers, volumes) == ([], []), "code containers or their volumes were left behind"


def _executor(bot: Bot, runtime: str | None = None) -> DockerCommandLineCodeExecutor:
    return DockerCommandLineCodeExecutor(
        image=IMAGE,
        container_name=f"{PREFIX}{uuid.uuid4().hex[:12]}",
        timeout=20,
        work_dir=bot.work_dir,
        mem_limit="256m",
        pids_limit=64,
        workspace_size="64m",
        limits=LIMITS,
        runtime=runtime,
    )


@pytest.fixture
async def container(bot: Bot) -> AsyncIterator[DockerCommandLineCodeExecutor]:
    ex = _executor(bot)
    yield ex
    await ex.stop()


@pytest.mark.parametrize("name", [a for a in ALL if a != "escape_timeout"])
async def test_the_attack_fails(name: str, bot: Bot, container: DockerCommandLineCodeExecutor) -> None:
    result = await container.a_execute_code_blocks([CodeBlock(code(name, bot), "python")])
    check(name, bot, result.exit_code, result.output, [(f.name, f.size, f.data) for f in result.files], "docker")


_PROCESSES = (
    "import os\nfor pid in filter(str.isdigit, os.listdir('/proc')):\n"
    "    try: print(open(f'/proc/{pid}/cmdline').read().replace(chr(0), ' ').strip())\n"
    "    except OSError: pass"
)


async def test_nothing_outlives_the_run_and_the_executor_returns(
    bot: Bot, container: DockerCommandLineCodeExecutor
) -> None:
    container.timeout = 3
    # The bound is the property under test: the executor returns whatever the code left behind.
    async with asyncio.timeout(container.timeout + 30):
        result = await container.a_execute_code_blocks([CodeBlock(code("escape_timeout", bot), "python")])
    check("escape_timeout", bot, result.exit_code, result.output, [])
    left = await container.a_execute_code_blocks([CodeBlock(_PROCESSES, "python")])
    assert "sleep infinity" in left.output  # the keep-alive, spared
    assert "held.lock" not in left.output


async def test_a_link_in_the_host_work_dir_is_not_written_through(
    bot: Bot, container: DockerCommandLineCodeExecutor
) -> None:
    (bot.work_dir / "real.txt").symlink_to(bot.other)  # as if something had left it there
    result = await container.a_execute_code_blocks([CodeBlock("open('real.txt', 'w').write('overwritten')", "python")])
    assert result.exit_code == 0
    assert [f.name for f in result.files] == ["real.txt"]
    assert (bot.work_dir / "real.txt").is_symlink()  # untouched; the bot fixture checks its target


async def test_one_conversation_cannot_reach_another(bot: Bot, container: DockerCommandLineCodeExecutor) -> None:
    neighbour = DockerCommandLineCodeExecutor(
        image=IMAGE, timeout=20, work_dir=bot.data_dir / "conversation-3", container_name=f"{PREFIX}neighbour"
    )
    try:
        mine = await container.a_execute_code_blocks([CodeBlock("open('mine.txt', 'w').write('thread 1')", "python")])
        assert mine.exit_code == 0
        peek = (
            "import os\nfound = []\nfor d, _, fs in os.walk('/'):\n"
            "    if d.startswith(('/proc', '/sys')): continue\n"
            "    found += [os.path.join(d, f) for f in fs if f == 'mine.txt']\nprint('found', found)"
        )
        result = await neighbour.a_execute_code_blocks([CodeBlock(peek, "python")])
    finally:
        await neighbour.stop()
    assert "found []" in result.output


def _has_runsc() -> bool:
    client = docker_client()
    try:
        return "runsc" in (client.info().get("Runtimes") or {})
    finally:
        client.close()


@pytest.mark.parametrize(
    "name",
    ["read_secrets", "write_outside", "network", "memory_bomb", "disk_bomb", "forged_files", "fan_out"],
)
async def test_under_gvisor(name: str, bot: Bot) -> None:
    require(
        _has_runsc(),
        "the Docker engine has no runsc runtime: apt-get install runsc, add it to /etc/docker/daemon.json "
        "(.ci/sandboxes.sh does both) and reload dockerd",
    )
    ex = _executor(bot, runtime="runsc")
    try:
        kernel = await ex.a_execute_code_blocks([CodeBlock("import os; print(os.uname().release)", "python")])
        result = await ex.a_execute_code_blocks([CodeBlock(code(name, bot), "python")])
    finally:
        await ex.stop()
    assert kernel.output.strip() != os.uname().release  # gVisor's own kernel answered, not the host's
    if name == "memory_bomb":
        # gVisor's kernel, not the engine's OOM killer, stops it: no 137, the exec just fails.
        assert "ALLOCATED" not in result.output
        assert result.exit_code != 0
        return
    check(name, bot, result.exit_code, result.output, [(f.name, f.size, f.data) for f in result.files], "docker")
