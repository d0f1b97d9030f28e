"""The synchronous AutoGen calls over an async executor, and how agents call any executor.

Our executors implement ``a_execute_code_blocks`` / ``a_restart``; :class:`CodeExecutorBase`
gives them AutoGen's plain calls (``execute_code_blocks``, ``restart``) through the agent
layer's one sync edge, :func:`agents._sync.run_sync`, so that both spellings run the same code.
Agents stay on the async path with :func:`a_run_code_blocks`, which also accepts executors
that users wrote in AutoGen's synchronous style (run in a worker thread) or as coroutines.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, cast

from .._sync import run_sync
from .base import CodeBlock, CodeExtractor, CodeResult
from .markdown import MarkdownCodeExtractor

__all__ = ["CodeExecutorBase", "a_run_code_blocks"]


class CodeExecutorBase:
    """What every executor of ours shares: the code extractor and the synchronous calls."""

    @property
    def code_extractor(self) -> CodeExtractor:
        """Finds fenced code blocks in markdown (``MarkdownCodeExtractor``)."""
        return MarkdownCodeExtractor()

    def execute_code_blocks(self, code_blocks: list[CodeBlock]) -> CodeResult:
        """Run the blocks and wait for the result (with or without a running event loop).

        The async version is :meth:`a_execute_code_blocks`; use it from async code.
        """
        return run_sync(self.a_execute_code_blocks(code_blocks))

    def restart(self) -> None:
        """Start over (see :meth:`a_restart`) and wait until done."""
        run_sync(self.a_restart())

    async def a_execute_code_blocks(self, code_blocks: list[CodeBlock]) -> CodeResult:
        """Run the blocks in order, stopping at the first that fails."""
        raise NotImplementedError

    async def a_restart(self) -> None:
        """Forget the state left by earlier blocks."""

    async def stop(self) -> None:
        """Release what the executor holds (work dir, container)."""


async def a_run_code_blocks(executor: Any, code_blocks: list[CodeBlock]) -> CodeResult:
    """Run ``code_blocks`` on any executor without blocking the event loop.

    Ours run on the loop (``a_execute_code_blocks``); an AutoGen-style synchronous
    ``execute_code_blocks`` runs in a worker thread; one that returns an awaitable is awaited.
    """
    run_async = getattr(executor, "a_execute_code_blocks", None)
    if run_async is not None:
        return cast(CodeResult, await run_async(code_blocks))
    run = executor.execute_code_blocks
    if inspect.iscoroutinefunction(run):
        return cast(CodeResult, await run(code_blocks))
    result = await asyncio.to_thread(run, code_blocks)
    if inspect.isawaitable(result):
        result = await result
    return cast(CodeResult, result)
