"""Without a sandbox: nothing runs unless the caller said ``none``; with ``none``, quotas and the reaper still hold."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from agents import CodeBlock, LocalCommandLineCodeExecutor
from agents.errors import CodeExecutionError

from .attacks import Bot, check, code
from .conftest import LIMITS, lock_is_free


async def test_without_a_sandbox_nothing_runs_and_the_error_says_how_to_get_one(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agents.coding import local

    monkeypatch.setattr(local, "bubblewrap_works", lambda: False)
    executor = LocalCommandLineCodeExecutor(work_dir=bot.work_dir)  # sandbox="auto", the default
    assert not executor.sandboxed
    with pytest.raises(CodeExecutionError) as refused:
        await executor.a_execute_code_blocks([CodeBlock(code("read_secrets", bot) + "\nopen('ran', 'w')", "python")])
    assert "apt-get install bubblewrap" in str(refused.value)
    assert "sandbox: none" in str(refused.value)
    assert not (bot.work_dir / "ran").exists()


@pytest.fixture
async def unsandboxed(bot: Bot) -> AsyncIterator[LocalCommandLineCodeExecutor]:
    ex = LocalCommandLineCodeExecutor(timeout=3, work_dir=bot.work_dir, sandbox="none", limits=LIMITS)
    yield ex
    await ex.stop()


async def test_a_detached_process_does_not_outlive_an_unsandboxed_run(
    bot: Bot, unsandboxed: LocalCommandLineCodeExecutor
) -> None:
    # The bound is the property under test: before the reaper, this run took the sleeper's whole hour.
    async with asyncio.timeout(unsandboxed.timeout + 30):
        result = await unsandboxed.a_execute_code_blocks([CodeBlock(code("escape_timeout", bot), "python")])
    assert "left it running" in result.output
    assert (bot.work_dir / "held.lock").exists()
    assert lock_is_free(bot.work_dir / "held.lock")


async def test_the_timeout_kills_a_detached_process_without_a_sandbox(
    bot: Bot, unsandboxed: LocalCommandLineCodeExecutor
) -> None:
    block = code("escape_timeout", bot) + "\nimport time; time.sleep(3600)\n"
    async with asyncio.timeout(unsandboxed.timeout + 30):
        result = await unsandboxed.a_execute_code_blocks([CodeBlock(block, "python")])
    assert result.exit_code == 124
    assert lock_is_free(bot.work_dir / "held.lock")


@pytest.mark.parametrize("name", ["memory_bomb", "disk_bomb"])
async def test_quotas_hold_without_a_sandbox(name: str, bot: Bot, unsandboxed: LocalCommandLineCodeExecutor) -> None:
    unsandboxed.timeout = 20
    result = await unsandboxed.a_execute_code_blocks([CodeBlock(code(name, bot), "python")])
    check(name, bot, result.exit_code, result.output, [])
