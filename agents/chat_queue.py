"""Queues of chats: sequential, concurrent, and nested (a reply made by running chats).

``initiate_chats`` runs chats one after another, each starting with the summaries of the
earlier ones as carryover. ``a_initiate_chats`` runs them concurrently: each chat has a
``chat_id`` and waits only for its ``prerequisites``, whose summaries it gets.
"""

from __future__ import annotations

import asyncio
import graphlib
import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from ._sync import run_sync
from .agent import Agent
from .chat import ChatResult, check_summary_method
from .errors import ConfigurationError

__all__ = ["a_initiate_chats", "a_initiate_chats_in_order", "initiate_chats", "nested_chats_reply"]

_log = logging.getLogger(__name__)


# -- queues of chats --------------------------------------------------------------------------------


class _Initiator(Protocol):
    """An agent that starts chats (ConversableAgent)."""

    async def a_initiate_chat(self, recipient: Agent, **kwargs: Any) -> ChatResult: ...


def _prepared(chat_queue: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    queue = []
    recipients = []
    for index, chat in enumerate(chat_queue):
        for key in ("sender", "recipient"):
            if chat.get(key) is None:
                raise ConfigurationError(f"chat_queue[{index}] has no {key!r}")
        check_summary_method(chat.get("summary_method", "last_msg"), chat["sender"], chat["recipient"])
        recipients.append(chat["recipient"])
        queue.append(dict(chat))
    if len(set(map(id, recipients))) < len(recipients):
        _log.warning(
            "a recipient appears more than once in chat_queue; its history is cleared at each chat "
            "unless that chat sets clear_history=False"
        )
    return queue


def _carryover_list(chat: Mapping[str, Any]) -> list[Any]:
    carryover = chat.get("carryover") or []
    return [carryover] if isinstance(carryover, str) else list(carryover)


async def _run_one(chat: dict[str, Any], carryover: list[Any]) -> ChatResult:
    chat = {
        k: v for k, v in chat.items() if k not in ("prerequisites", "finished_chat_indexes_to_exclude_from_carryover")
    }
    sender: _Initiator = chat.pop("sender")
    chat["carryover"] = carryover
    return await sender.a_initiate_chat(chat.pop("recipient"), **chat)


async def a_initiate_chats_in_order(chat_queue: Sequence[Mapping[str, Any]]) -> list[ChatResult]:
    """Run chats one after another; each gets the earlier chats' summaries as carryover."""
    finished: list[ChatResult] = []
    for chat in _prepared(chat_queue):
        exclude = set(chat.get("finished_chat_indexes_to_exclude_from_carryover") or ())
        summaries = [r.summary for i, r in enumerate(finished) if i not in exclude]
        finished.append(await _run_one(chat, _carryover_list(chat) + summaries))
    return finished


def initiate_chats(chat_queue: Sequence[Mapping[str, Any]]) -> list[ChatResult]:
    """Run chats in order (see :func:`a_initiate_chats_in_order`); the sync edge.

    Each entry holds the arguments of ``initiate_chat`` plus ``sender``, ``recipient``, and
    optionally ``carryover`` and ``finished_chat_indexes_to_exclude_from_carryover``.
    """
    return run_sync(a_initiate_chats_in_order(chat_queue))


async def a_initiate_chats(chat_queue: Sequence[Mapping[str, Any]]) -> dict[Any, ChatResult]:
    """Run chats concurrently; a chat starts when its ``prerequisites`` have finished.

    Each entry needs a unique ``chat_id``; ``prerequisites`` lists chat ids. A chat's
    carryover is its own plus the summaries of its prerequisites, except those listed in
    ``finished_chat_indexes_to_exclude_from_carryover`` (chat ids, as in AutoGen).

    Raises:
        ConfigurationError: a missing or repeated chat id, an unknown prerequisite, or a cycle.
    """
    queue = _prepared(chat_queue)
    by_id: dict[Any, dict[str, Any]] = {}
    for index, chat in enumerate(queue):
        if "chat_id" not in chat:
            raise ConfigurationError(f"chat_queue[{index}] has no 'chat_id'; concurrent chats need one each")
        if chat["chat_id"] in by_id:
            raise ConfigurationError(f"chat_id {chat['chat_id']!r} is used twice in chat_queue")
        by_id[chat["chat_id"]] = chat
    graph = {}
    for chat_id, chat in by_id.items():
        missing = [p for p in chat.get("prerequisites", ()) if p not in by_id]
        if missing:
            raise ConfigurationError(f"chat {chat_id!r} has prerequisites that are not in chat_queue: {missing}")
        graph[chat_id] = set(chat.get("prerequisites", ()))
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        raise ConfigurationError(f"the prerequisites of the chats form a cycle: {exc.args[1]}") from exc

    tasks: dict[Any, asyncio.Task[ChatResult]] = {}

    async def run(chat_id: Any) -> ChatResult:
        chat = by_id[chat_id]
        exclude = set(chat.get("finished_chat_indexes_to_exclude_from_carryover") or ())
        done = {p: await tasks[p] for p in chat.get("prerequisites", ())}
        summaries = [result.summary for p, result in done.items() if p not in exclude]
        return await _run_one(chat, _carryover_list(chat) + summaries)

    for chat_id in order:
        tasks[chat_id] = asyncio.ensure_future(run(chat_id))
    try:
        await asyncio.gather(*tasks.values())
    except BaseException:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        raise
    return {chat_id: tasks[chat_id].result() for chat_id in by_id}


# -- nested chats ---------------------------------------------------------------------------------


def _chats_to_run(
    chat_queue: Sequence[Mapping[str, Any]],
    recipient: Agent,
    messages: Sequence[Mapping[str, Any]] | None,
    sender: Any,
    config: Any,
) -> list[dict[str, Any]]:
    last = messages[-1].get("content") if messages else None
    chats = []
    for index, chat in enumerate(chat_queue):
        current = dict(chat)
        if current.get("sender") is None:
            current["sender"] = recipient
        message = current.get("message")
        if message is None and index == 0:
            message = last
        if callable(message):
            message = message(recipient, messages, sender, config)
        if message:
            current["message"] = message
            chats.append(current)
    return chats


def nested_chats_reply(
    chat_queue: list[dict[str, Any]], reply_func: str | Callable[..., Any], *, use_async: bool
) -> Callable[..., Any]:
    """The reply function of :meth:`ConversableAgent.register_nested_chats`.

    Raises:
        ConfigurationError: an unknown ``reply_func`` name, or async chats without chat ids.
    """
    if use_async and any("chat_id" not in chat for chat in chat_queue):
        raise ConfigurationError("nested chats with use_async=True need a 'chat_id' in every chat")
    if reply_func == "summary_from_nested_chats":

        async def summary(
            queue: list[dict[str, Any]],
            recipient: Agent,
            messages: Sequence[Mapping[str, Any]] | None,
            sender: Any,
            config: Any,
        ) -> tuple[bool, str | None]:
            chats = _chats_to_run(queue, recipient, messages, sender, config)
            if not chats:
                return True, None
            if use_async:
                results = list((await a_initiate_chats(chats)).values())
            else:
                results = await a_initiate_chats_in_order(chats)
            return True, results[-1].summary

        inner: Callable[..., Any] = summary
    elif callable(reply_func):
        inner = reply_func
    else:
        raise ConfigurationError(
            f"reply_func_from_nested_chats must be 'summary_from_nested_chats' or a callable, not {reply_func!r}"
        )

    async def reply(
        recipient: Agent,
        messages: Sequence[Mapping[str, Any]] | None = None,
        sender: Any = None,
        config: Any = None,
    ) -> Any:
        result = inner(chat_queue, recipient, messages, sender, config)
        return await result if inspect.isawaitable(result) else result

    return reply
