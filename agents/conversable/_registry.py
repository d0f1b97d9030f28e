"""The reply registry: which functions make an agent's reply, for which senders, in what order.

An agent's reply is the first final answer of its reply functions, tried in order: the ones
registered with :meth:`register_reply` (newest first, unless placed otherwise), then the
built-in ones of :mod:`agents.conversable.replies`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from .._classic import as_dicts, classic, is_typed, typed, typed_messages
from .._sync import sync_edge
from ..agent import Agent
from ..errors import ConfigurationError, SenderRequiredError
from ..messages import MessageLike
from . import replies
from ._base import ReplyFunction, ReplyValue, Trigger, maybe_await
from ._hooks import HooksMixin

__all__ = ["BUILTIN_REPLIES", "ReplyEntry", "ReplyRegistryMixin"]

BUILTIN_REPLIES: tuple[ReplyFunction, ...] = (
    replies.a_generate_oai_reply,
    replies.a_generate_code_execution_reply,
    replies.a_generate_tool_calls_reply,
    replies.a_check_termination_and_human_reply,
)
"""Registered in this order at construction, so they are tried in the reverse one."""

for _builtin in BUILTIN_REPLIES:
    typed(_builtin)


@dataclass(slots=True)
class ReplyEntry:
    trigger: Any
    reply_func: ReplyFunction
    config: Any
    init_config: Any
    reset_config: Callable[[Any], None] | None


class ReplyRegistryMixin(HooksMixin):
    """Registering reply functions, and generating a reply with them."""

    _reply_func_list: list[ReplyEntry]

    def register_reply(
        self,
        trigger: Trigger,
        reply_func: ReplyFunction,
        position: int = 0,
        config: Any = None,
        reset_config: Callable[[Any], None] | None = None,
        *,
        ignore_async_in_sync_chat: bool = False,
        remove_other_reply_funcs: bool = False,
    ) -> None:
        """Add a reply function, tried when ``trigger`` matches the sender.

        Args:
            trigger: a class (the sender is an instance), a name, an agent, a predicate on
                the sender, None (no sender), or a list of these (any matches).
            reply_func: ``(recipient, messages, sender, config) -> (final, reply)``, sync or async.
            position: where in the list; 0 is tried first.
            config: passed to ``reply_func``; restored on :meth:`reset`.
            reset_config: called with ``config`` on :meth:`reset`.
            ignore_async_in_sync_chat: accepted for AutoGen compatibility; every chat is async here.
            remove_other_reply_funcs: drop every other reply function first.

        Raises:
            ConfigurationError: the trigger is none of the kinds above.
        """
        if not (trigger is None or isinstance(trigger, (type, str, list, Agent)) or callable(trigger)):
            raise ConfigurationError("trigger must be a class, a name, an agent, a callable, None or a list of these")
        if remove_other_reply_funcs:
            self._reply_func_list.clear()
        entry = ReplyEntry(trigger, reply_func, config, copy.copy(config), reset_config)
        self._reply_func_list.insert(position, entry)

    def replace_reply_func(self, old_reply_func: ReplyFunction, new_reply_func: ReplyFunction) -> None:
        """Swap a registered reply function for another, keeping its trigger and place."""
        for entry in self._reply_func_list:
            if entry.reply_func is old_reply_func:
                entry.reply_func = new_reply_func

    @property
    def reply_functions(self) -> list[ReplyFunction]:
        """The reply functions in the order they are tried."""
        return [entry.reply_func for entry in self._reply_func_list]

    def _match_trigger(self, trigger: Any, sender: Agent | None) -> bool:
        if trigger is None:
            return sender is None
        if isinstance(trigger, str):
            if sender is None:
                raise SenderRequiredError(f"{self.name}: a trigger given as a name ({trigger!r}) needs a sender")
            return trigger == sender.name
        if isinstance(trigger, type):
            return _is_instance(sender, trigger)
        if isinstance(trigger, list):
            return any(self._match_trigger(t, sender) for t in trigger)
        if isinstance(trigger, ReplyRegistryMixin) or _is_instance(trigger, Agent):
            return trigger is sender
        result = trigger(sender)
        if not isinstance(result, bool):
            raise ConfigurationError(f"trigger {trigger!r} must return a bool, it returned {result!r}")
        return result

    async def a_generate_reply(
        self,
        messages: Sequence[MessageLike] | None = None,
        sender: Agent | None = None,
        exclude: Iterable[ReplyFunction] = (),
        **kwargs: Any,
    ) -> ReplyValue:
        """This agent's reply: the first final answer of its reply functions, in order.

        Args:
            messages: the history to reply to (default: the history with ``sender``); dicts or Messages.
                Reply functions get it as AutoGen dicts (this framework's own get Messages).
            sender: who the reply is for.
            exclude: reply functions to skip (AutoGen's sync names are understood too).

        Raises:
            ConfigurationError: neither ``messages`` nor ``sender`` given.
        """
        if messages is None:
            if sender is None:
                raise ConfigurationError("generate_reply needs messages or a sender")
            history = self._state.messages[sender]
        elif sender is not None and messages is self._state.messages.get(sender):
            history = self._state.messages[sender]  # the stored history: typed, no need to look
        else:
            history = typed_messages(messages)
        history = await self._run_hooks_before_reply(history)
        skip = {self._async_form(f) for f in exclude}
        dicts: list[dict[str, Any]] | None = None  # what user reply functions get, made once
        for entry in list(self._reply_func_list):
            func = entry.reply_func
            if func in skip or not self._match_trigger(entry.trigger, sender):
                continue
            given: list[Any] = history
            if not is_typed(func):
                given = dicts = as_dicts(history) if dicts is None else dicts
            final, reply = await maybe_await(func(self, messages=given, sender=sender, config=entry.config))
            if final:
                return cast("ReplyValue", classic(reply))
        return self._default_auto_reply

    generate_reply = sync_edge(a_generate_reply)

    def _async_form(self, func: Any) -> Any:
        """A reply function as registered: AutoGen's sync names stand for their ``a_`` forms."""
        func = getattr(func, "__func__", func)
        async_name = getattr(func, "async_name", None)
        return getattr(type(self), async_name, func) if async_name else func

    # The built-in reply functions, as AutoGen exposes them.
    a_check_termination_and_human_reply = replies.a_check_termination_and_human_reply
    a_generate_tool_calls_reply = replies.a_generate_tool_calls_reply
    a_generate_code_execution_reply = replies.a_generate_code_execution_reply
    a_generate_oai_reply = replies.a_generate_oai_reply
    check_termination_and_human_reply = sync_edge(replies.a_check_termination_and_human_reply)
    generate_tool_calls_reply = sync_edge(replies.a_generate_tool_calls_reply)
    generate_code_execution_reply = sync_edge(replies.a_generate_code_execution_reply)
    generate_oai_reply = sync_edge(replies.a_generate_oai_reply)


def _is_instance(value: Any, cls: type) -> bool:
    # isinstance() against a runtime-checkable Protocol inspects every attribute, every call;
    # every agent of this framework is a ReplyRegistryMixin, so answer that case first.
    if cls is Agent and isinstance(value, ReplyRegistryMixin):
        return True
    return isinstance(value, cls)
