"""Every attack through the local executor under bubblewrap, as the user the tests run as (root in CI)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from agents import CodeBlock, LocalCommandLineCodeExecutor
from agents.coding._files import dir_usage
from agents.coding.bubblewrap import bubblewrap_problem
from tests.conftest import require

from .attacks import ALL, Bot, check, code
from .conftest import LIMITS, lock_is_free


@pytest.fixture
async def local(bot: Bot) -> AsyncIterator[LocalCommandLineCodeExecutor]:
    require(bubblewrap_problem() is None, f"no local sandbox here: {bubblewrap_problem()}")
    ex = LocalCommandLineCodeExecutor(timeout=20, work_dir=bot.work_dir, sandbox="bubblewrap", limits=LIMITS)
    yield ex
    await ex.stop()


@pytest.mark.parametrize("name", [a for a in ALL if a != "escape_timeout"])
async def test_the_attack_fails(name: str, bot: Bot, local: LocalCommandLineCodeExecutor) -> None:
    result = await local.a_execute_code_blocks([CodeBlock(code(name, bot), "python")])
    check(name, bot, result.exit_code, result.output, [(f.name, f.size, f.data) for f in result.files])


async def test_the_disk_quota_leaves_the_work_dir_under_it(bot: Bot, local: LocalCommandLineCodeExecutor) -> None:
    result = await local.a_execute_code_blocks([CodeBlock(code("disk_bomb", bot), "python")])
    check("disk_bomb", bot, result.exit_code, result.output, [])
    used, _ = dir_usage(bot.work_dir)
    assert used < LIMITS.work_dir_bytes


async def test_nothing_outlives_the_run_and_the_executor_returns(bot: Bot, local: LocalCommandLineCodeExecutor) -> None:
    local.timeout = 3
    # The bound is the property under test (the executor returns whatever the code left behind),
    # ten times the grace the executor needs; before the fix, this run took the whole hour.
    async with asyncio.timeout(local.timeout + 30):
        result = await local.a_execute_code_blocks([CodeBlock(code("escape_timeout", bot), "python")])
    check("escape_timeout", bot, result.exit_code, result.output, [])
    lock = bot.work_dir / "held.lock"
    assert lock.exists(), result.output  # the detached process did start
    assert lock_is_free(lock), "a process the code detached still runs"


async def test_the_timeout_kills_a_detached_process_too(bot: Bot, local: LocalCommandLineCodeExecutor) -> None:
    local.timeout = 3
    block = code("escape_timeout", bot) + "\nimport time; time.sleep(3600)\n"
    async with asyncio.timeout(local.timeout + 30):
        result = await local.a_execute_code_blocks([CodeBlock(block, "python")])
    assert result.exit_code == 124
    assert lock_is_free(bot.work_dir / "held.lock")


async def test_one_conversation_cannot_reach_another(bot: Bot, local: LocalCommandLineCodeExecutor) -> None:
    neighbour = LocalCommandLineCodeExecutor(
        timeout=20, work_dir=bot.data_dir / "conversation-3", sandbox="bubblewrap", limits=LIMITS
    )
    private = CodeBlock("open('mine.txt', 'w').write('private to thread 1')", "python")
    mine = await local.a_execute_code_blocks([private])
    assert mine.exit_code == 0
    peek = (
        f"import os\nfor p in [{str(bot.work_dir / 'mine.txt')!r}, '../conversation-1/mine.txt']:\n"
        "    try: print(open(p).read())\n    except OSError as e: print('refused', e.errno)\n"
        "print(sorted(os.listdir('..')))\n"
    )
    result = await neighbour.a_execute_code_blocks([CodeBlock(peek, "python")])
    await neighbour.stop()
    assert "private to thread 1" not in result.output
    assert result.output.count("refused") == 2
    assert "conversation-1" not in result.output.split("\n")[-2]
