"""The one sync edge over the async core.

AutoGen's sync methods (``initiate_chat``, ``generate_reply``, ...) are made by
:func:`sync_edge` from their ``a_`` forms, and so call :func:`run_sync`. Without a
running event loop it runs the coroutine with ``asyncio.run``; inside one (a
notebook, a sync reply function called from an async chat) it runs it on a fresh loop in a
worker thread and waits, because the caller's loop cannot be re-entered.

Resources that belong to one event loop (HTTP connection pools) register a closer with
:func:`on_loop_close`; :func:`run_sync` runs the closers of its loop before the loop ends.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import inspect
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar, cast

__all__ = ["aclose_loop_resources", "on_loop_close", "run_sync", "sync_edge"]

T = TypeVar("T")
P = ParamSpec("P")

_closers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[Callable[[], Awaitable[None]]]] = (
    weakref.WeakKeyDictionary()
)


def on_loop_close(closer: Callable[[], Awaitable[None]]) -> None:
    """Register ``closer`` to run when the current loop's resources are closed."""
    _closers.setdefault(asyncio.get_running_loop(), []).append(closer)


async def aclose_loop_resources() -> None:
    """Close every resource registered for the running loop (HTTP clients, ...)."""
    closers = _closers.pop(asyncio.get_running_loop(), [])
    for closer in reversed(closers):
        await closer()


async def _run_and_close(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return await coro
    finally:
        await aclose_loop_resources()


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from synchronous code, with or without a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_run_and_close(coro))
    context = contextvars.copy_context()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="threadcrew-sync") as pool:
        future = pool.submit(context.run, asyncio.run, _run_and_close(coro))
        return future.result()


def sync_edge(async_func: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    """The sync form of ``async_func`` (an ``a_``-named coroutine function): it runs it with :func:`run_sync`.

    When the async form is a method (its first parameter is ``self``, or ``agent`` for a reply
    function used as a method), the edge calls the instance's own ``a_`` method, so that a
    subclass overriding the async form changes the sync one too.
    The edge carries the signature and docstring of the async form.
    """
    async_name = async_func.__name__
    name = async_name.removeprefix("a_")
    params = list(inspect.signature(async_func).parameters)
    is_method = bool(params) and params[0] in ("self", "agent")

    @functools.wraps(async_func)
    def edge(*args: P.args, **kwargs: P.kwargs) -> T:
        if is_method and args:
            return run_sync(cast("Coroutine[Any, Any, T]", getattr(args[0], async_name)(*args[1:], **kwargs)))
        return run_sync(async_func(*args, **kwargs))

    edge.__name__ = name
    edge.__qualname__ = async_func.__qualname__.removesuffix(async_name) + name
    edge.__doc__ = f"The sync form of ``{async_name}``; works with or without a running event loop."
    edge.async_name = async_name  # type: ignore[attr-defined]
    return edge
