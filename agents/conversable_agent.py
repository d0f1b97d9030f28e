"""ConversableAgent: AutoGen's agent that sends, receives and generates replies.

An agent keeps one history per peer. Its reply is the first final answer of its reply
functions, tried in order: the ones registered with :meth:`register_reply` (newest first,
unless placed otherwise), then the built-in ones in :mod:`agents._replies`.

The core is async; ``send``, ``receive``, ``generate_reply``, ``initiate_chat`` and the other
sync methods are thin edges over their ``a_`` forms (:func:`agents._sync.run_sync`).
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import logging
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, cast

from . import _console, _replies
from ._sync import run_sync
from .agent import Agent
from .coding.base import CodeBlock, CodeExecutor, CodeResult
from .coding.local import LocalCommandLineCodeExecutor
from .errors import ConfigurationError, InvalidMessageError, SenderRequiredError
from .human_input import ConsoleInput, HumanInputSource, record_human_input
from .llm.base import StreamHandler
from .llm.client import LLMClient
from .messages import Message, MessageLike, WireCache, content_str
from .outcome import Stop, StopKind
from .tools import Tool

if TYPE_CHECKING:
    from .chat import ChatResult

__all__ = ["ConversableAgent", "HumanInputMode", "ReplyFunction", "Trigger", "check_agent_name", "register_function"]

_log = logging.getLogger(__name__)

HumanInputMode: TypeAlias = Literal["ALWAYS", "TERMINATE", "NEVER"]
ReplyValue: TypeAlias = "str | dict[str, Any] | Message | None"
ReplyFunction: TypeAlias = Callable[..., "tuple[bool, ReplyValue] | Awaitable[tuple[bool, ReplyValue]]"]
Trigger: TypeAlias = "type | str | Agent | Callable[[Agent | None], bool] | list[Any] | None"
CodeApproval: TypeAlias = Callable[[list[CodeBlock]], Awaitable["str | None"]]
"""An async policy over code about to run: None approves, a string denies and says why."""

_HOOKS = ("process_last_received_message", "process_all_messages_before_reply", "process_message_before_send")
_FORBIDDEN_IN_NAME = re.compile(r"[\s<|\\/>]")


def _default_is_termination_msg(message: Message) -> bool:
    return message.text == "TERMINATE"


@dataclass(slots=True)
class _ReplyEntry:
    trigger: Any
    reply_func: ReplyFunction
    config: Any
    init_config: Any
    reset_config: Callable[[Any], None] | None


@dataclass(slots=True)
class _AgentState:
    """What an agent remembers between turns (see :meth:`ConversableAgent.get_state`)."""

    messages: defaultdict[Agent, list[Message]] = field(default_factory=lambda: defaultdict(list))
    auto_reply_counts: defaultdict[Agent | None, int] = field(default_factory=lambda: defaultdict(int))
    reply_at_receive: defaultdict[Agent, bool] = field(default_factory=lambda: defaultdict(bool))


class ConversableAgent:
    """An agent that can converse: with a model, tools, code execution and a human.

    Args:
        name: the agent's name; the model API's rules apply (no spaces or ``<|\\/>``, 64 chars).
        system_message: the system message of its model calls.
        is_termination_msg: takes a received message, says whether it ends the chat
            (default: its content is exactly "TERMINATE").
        max_consecutive_auto_reply: replies to one sender without human input before the
            agent stops or asks (default 100).
        human_input_mode: "ALWAYS", "TERMINATE" or "NEVER" (see
            :func:`agents._replies.a_check_termination_and_human_reply`).
        function_map: tool name to function, for executing tool calls.
        code_execution_config: False, or ``{"executor": CodeExecutor, "last_n_messages": ...,
            "approval": async policy}``, or AutoGen's legacy ``{"work_dir", "use_docker", "timeout"}``.
        llm_config: False for no model, or the dict described in :mod:`agents.llm.config`.
        default_auto_reply: the reply when no reply function gives one.
        description: how others see this agent (group-chat selection); default: the system message.
        chat_messages: histories to start from, per peer.
        silent: when set, overrides the chats' ``silent`` for this agent's printing.
        human_input_source: where human input comes from (default: the console).
        stream_handler: receives the text of model replies as it streams.

    Raises:
        ConfigurationError: a bad name, mode, llm_config or code_execution_config.
    """

    DEFAULT_CONFIG: Literal[False] = False
    MAX_CONSECUTIVE_AUTO_REPLY = 100
    DEFAULT_SUMMARY_PROMPT = "Summarize the takeaway from the conversation. Do not add any introductory phrases."
    DEFAULT_SUMMARY_METHOD = "last_msg"

    def __init__(
        self,
        name: str,
        system_message: str | list[Any] | None = "You are a helpful AI Assistant.",
        is_termination_msg: Callable[[Message], bool] | None = None,
        max_consecutive_auto_reply: int | None = None,
        human_input_mode: HumanInputMode = "TERMINATE",
        function_map: Mapping[str, Callable[..., Any]] | None = None,
        code_execution_config: dict[str, Any] | Literal[False] = False,
        llm_config: Mapping[str, Any] | Literal[False] | None = None,
        default_auto_reply: str | dict[str, Any] = "",
        description: str | None = None,
        chat_messages: Mapping[Agent, list[MessageLike]] | None = None,
        silent: bool | None = None,
        *,
        human_input_source: HumanInputSource | None = None,
        stream_handler: StreamHandler | None = None,
    ) -> None:
        check_agent_name(name)
        if human_input_mode not in ("ALWAYS", "TERMINATE", "NEVER"):
            raise ConfigurationError(
                f"agent {name!r}: human_input_mode must be 'ALWAYS', 'TERMINATE' or 'NEVER', not {human_input_mode!r}"
            )
        self._name = name
        self._oai_system_message = [Message(role="system", content=_as_content(system_message))]
        self._description = description if description is not None else content_str(self.system_message)
        self._is_termination_msg = is_termination_msg or _default_is_termination_msg
        self._max_consecutive_auto_reply = (
            max_consecutive_auto_reply if max_consecutive_auto_reply is not None else self.MAX_CONSECUTIVE_AUTO_REPLY
        )
        self._max_consecutive_auto_reply_dict: defaultdict[Agent | None, int] = defaultdict(
            self.max_consecutive_auto_reply
        )
        self.human_input_mode: HumanInputMode = human_input_mode
        self.human_input_source: HumanInputSource = human_input_source or ConsoleInput()
        self.stream_handler = stream_handler
        self.silent = silent
        self._default_auto_reply = default_auto_reply
        self._state = _AgentState()
        self._human_input: list[str] = []
        self._tools: dict[str, Tool] = {}
        self.register_function(dict(function_map or {}))
        self.llm_config: dict[str, Any] | Literal[False] = self._init_llm_config(llm_config)
        self.client: LLMClient | None = LLMClient(self.llm_config) if self.llm_config else None
        self._code_execution_config: dict[str, Any] | Literal[False] = self._init_code_execution(code_execution_config)
        self._last_code_result: CodeResult | None = None
        self._stop_reason: Stop | None = None
        self._wire = WireCache()
        self._reply_func_list: list[_ReplyEntry] = []
        self.hook_lists: dict[str, list[Callable[..., Any]]] = {hook: [] for hook in _HOOKS}
        for builtin in (
            _replies.a_generate_oai_reply,
            _replies.a_generate_code_execution_reply,
            _replies.a_generate_tool_calls_reply,
            _replies.a_check_termination_and_human_reply,
        ):
            self.register_reply([Agent, None], builtin)
        for peer, history in (chat_messages or {}).items():
            self._state.messages[peer] = [self._as_message(m) for m in history]

    # -- identity ----------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str:
        return self._description

    @description.setter
    def description(self, description: str) -> None:
        self._description = description

    @property
    def system_message(self) -> str:
        """The system message's text."""
        return self._oai_system_message[0].text

    def update_system_message(self, system_message: str) -> None:
        """Replace the system message of future model calls."""
        self._oai_system_message = [Message(role="system", content=system_message)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    # -- configuration -----------------------------------------------------------------

    def _init_llm_config(
        self, llm_config: Mapping[str, Any] | Literal[False] | None
    ) -> dict[str, Any] | Literal[False]:
        if llm_config is None:
            llm_config = self.DEFAULT_CONFIG
        if llm_config is False:
            return False
        if not isinstance(llm_config, Mapping):
            raise ConfigurationError(f"agent {self.name!r}: llm_config must be a dict, False or None")
        config = copy.deepcopy(dict(llm_config))
        if not config.get("tools"):
            config.pop("tools", None)
        return config

    def _init_code_execution(self, config: dict[str, Any] | Literal[False] | None) -> dict[str, Any] | Literal[False]:
        self._code_executor: CodeExecutor | None = None
        self._code_approval: CodeApproval | None = None
        self._last_n_messages: int | Literal["auto"] = "auto"
        if config is False or config is None:
            return False
        if not isinstance(config, dict):
            raise ConfigurationError(f"agent {self.name!r}: code_execution_config must be a dict or False")
        last_n = config.get("last_n_messages", "auto")
        if last_n != "auto" and not (isinstance(last_n, int) and not isinstance(last_n, bool) and last_n >= 0):
            raise ConfigurationError(
                f"agent {self.name!r}: code_execution_config['last_n_messages'] must be a non-negative int or 'auto'"
            )
        self._last_n_messages = last_n
        self._code_approval = config.get("approval")
        executor = config.get("executor")
        if executor is None:
            executor = _legacy_executor(self.name, config)
        elif executor == "commandline-local":
            executor = LocalCommandLineCodeExecutor(**config.get("commandline-local", {}))
        elif not hasattr(executor, "execute_code_blocks"):
            raise ConfigurationError(
                f"agent {self.name!r}: code_execution_config['executor'] must be a CodeExecutor "
                "(e.g. LocalCommandLineCodeExecutor()) or 'commandline-local'"
            )
        self._code_executor = executor
        return config

    @property
    def code_executor(self) -> CodeExecutor | None:
        """The executor of this agent's code execution reply, or None."""
        return self._code_executor

    @property
    def use_docker(self) -> bool:
        return bool(self._code_execution_config and self._code_execution_config.get("use_docker"))

    def register_model_client(self, model_client_cls: type[Any], **kwargs: Any) -> None:
        """Use ``model_client_cls(entry, **kwargs)`` for config entries naming it in ``model_client_cls``.

        Raises:
            ConfigurationError: the agent has no llm_config, or no entry names the class.
        """
        if self.client is None:
            raise ConfigurationError(f"agent {self.name!r} has llm_config=False: there is no model to register")
        self.client.register_model_client(model_client_cls, **kwargs)

    # -- reply functions and hooks -------------------------------------------------------

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
        """
        if not (trigger is None or isinstance(trigger, (type, str, list, Agent)) or callable(trigger)):
            raise ConfigurationError("trigger must be a class, a name, an agent, a callable, None or a list of these")
        if remove_other_reply_funcs:
            self._reply_func_list.clear()
        entry = _ReplyEntry(trigger, reply_func, config, copy.copy(config), reset_config)
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

    def register_hook(self, hookable_method: str, hook: Callable[..., Any]) -> None:
        """Add a hook to one of the hookable methods (see ``_HOOKS``).

        Raises:
            ConfigurationError: an unknown hookable method, or the hook is already there.
        """
        if hookable_method not in self.hook_lists:
            raise ConfigurationError(f"{hookable_method!r} is not a hookable method; use one of {', '.join(_HOOKS)}")
        if hook in self.hook_lists[hookable_method]:
            raise ConfigurationError(f"{hook!r} is already registered as a {hookable_method} hook")
        self.hook_lists[hookable_method].append(hook)

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
        if isinstance(trigger, ConversableAgent) or _is_instance(trigger, Agent):
            return trigger is sender
        result = trigger(sender)
        if not isinstance(result, bool):
            raise ConfigurationError(f"trigger {trigger!r} must return a bool, it returned {result!r}")
        return result

    async def _run_hooks_before_reply(self, messages: list[Message]) -> list[Message]:
        """The messages as the reply functions see them; the stored history is never changed."""
        hooks = self.hook_lists["process_last_received_message"]
        if hooks and messages and isinstance(messages[-1].content, str) and messages[-1].content != "exit":
            last = messages[-1]
            processed: Any = last.content
            for hook in hooks:
                processed = await _maybe_await(hook(processed))
            if processed != last.content:
                messages = [*messages[:-1], Message.from_dict({**last.to_dict(), "content": processed})]
        for hook in self.hook_lists["process_all_messages_before_reply"]:
            messages = [self._as_message(m) for m in await _maybe_await(hook(messages))]
        return messages

    @staticmethod
    def _as_message(message: MessageLike) -> Message:
        if isinstance(message, Message):
            return message
        return Message.from_dict({"content": message} if isinstance(message, str) else message, role="user")

    # -- sending and receiving -------------------------------------------------------------

    @property
    def chat_messages(self) -> defaultdict[Agent, list[Message]]:
        """This agent's history with each peer."""
        return self._state.messages

    @property
    def reply_at_receive(self) -> defaultdict[Agent, bool]:
        """Per peer: whether receiving a message from it makes this agent reply."""
        return self._state.reply_at_receive

    @property
    def _consecutive_auto_reply_counter(self) -> defaultdict[Agent | None, int]:
        return self._state.auto_reply_counts

    def chat_messages_for_summary(self, agent: Agent) -> list[Message]:
        return self.chat_messages[agent]

    def last_message(self, agent: Agent | None = None) -> Message | None:
        """The last message exchanged with ``agent`` (with the only peer when None).

        Raises:
            ValueError: several peers and no ``agent`` given.
            KeyError: no history with ``agent``.
        """
        if agent is None:
            if not self.chat_messages:
                return None
            if len(self.chat_messages) > 1:
                raise ValueError("more than one conversation: pass the agent whose last message you want")
            history = next(iter(self.chat_messages.values()))
            return history[-1] if history else None
        if agent not in self.chat_messages:
            raise KeyError(f"agent {agent.name!r} is in no conversation with {self.name!r}: there is no history")
        history = self.chat_messages[agent]
        return history[-1] if history else None

    def _to_message(self, message: MessageLike, role: str, peer: Agent, is_sending: bool) -> Message:
        """AutoGen's rules for storing a message from this agent's point of view."""
        if isinstance(message, str):
            data: dict[str, Any] = {"content": message}
        elif isinstance(message, Message):
            data = message.to_dict()
        elif isinstance(message, Mapping):
            data = {k: v for k, v in message.items() if v is not None}
        else:
            raise InvalidMessageError(f"a message must be a str, a dict or a Message, not {type(message).__name__}")
        given_role = data.get("role")
        if given_role in ("tool", "function"):
            data["role"] = "tool"
        elif "override_role" in data:
            data["role"] = data.pop("override_role")
        else:
            data["role"] = role
        if data.get("tool_calls"):
            data["role"] = "assistant"
        elif "name" not in data:
            data["name"] = self.name if is_sending else peer.name
        if "content" not in data and not data.get("tool_calls") and not data.get("tool_responses"):
            raise InvalidMessageError(f"{self.name}: a message needs content or tool calls; neither is in {message!r}")
        return Message.from_dict(data)

    async def a_send(
        self,
        message: MessageLike,
        recipient: Agent,
        request_reply: bool | None = None,
        silent: bool | None = False,
    ) -> None:
        """Send ``message`` to ``recipient``, which replies when ``request_reply`` (or its default) says so.

        Raises:
            InvalidMessageError: the message has neither content nor tool calls.
        """
        for hook in self.hook_lists["process_message_before_send"]:
            message = await _maybe_await(hook(sender=self, message=message, recipient=recipient, silent=silent))
        stored = self._to_message(message, "assistant", recipient, True)
        self.chat_messages[recipient].append(stored)
        await recipient.a_receive(message, self, request_reply, silent)

    def send(
        self,
        message: MessageLike,
        recipient: Agent,
        request_reply: bool | None = None,
        silent: bool | None = False,
    ) -> None:
        run_sync(self.a_send(message, recipient, request_reply, silent))

    async def a_receive(
        self,
        message: MessageLike,
        sender: Agent,
        request_reply: bool | None = None,
        silent: bool | None = False,
    ) -> None:
        """Store ``message`` from ``sender``; reply (and go on replying) when asked to."""
        self._process_received_message(message, sender, silent)
        if request_reply is False or (request_reply is None and not self.reply_at_receive[sender]):
            return
        from .chat_run import converse

        await converse(self, sender, silent=silent)

    def receive(
        self,
        message: MessageLike,
        sender: Agent,
        request_reply: bool | None = None,
        silent: bool | None = False,
    ) -> None:
        run_sync(self.a_receive(message, sender, request_reply, silent))

    def _process_received_message(self, message: MessageLike, sender: Agent, silent: bool | None) -> None:
        stored = self._to_message(message, "user", sender, False)
        self.chat_messages[sender].append(stored)
        if not (self.silent if self.silent is not None else silent):
            _console.print_message(sender.name, self.name, stored)

    # -- generating replies ---------------------------------------------------------------------

    async def a_generate_reply(
        self,
        messages: list[Message] | None = None,
        sender: Agent | None = None,
        exclude: Iterable[ReplyFunction] = (),
        **kwargs: Any,
    ) -> ReplyValue:
        """This agent's reply: the first final answer of its reply functions, in order.

        Args:
            messages: the history to reply to (default: the history with ``sender``).
            sender: who the reply is for.
            exclude: reply functions to skip (AutoGen's sync names are understood too).
        """
        if messages is None and sender is None:
            raise ConfigurationError("generate_reply needs messages or a sender")
        if messages is None:
            assert sender is not None
            messages = self.chat_messages[sender]
        if not all(type(m) is Message for m in messages):
            messages = [self._as_message(m) for m in messages]
        messages = await self._run_hooks_before_reply(messages)
        unbound = (getattr(f, "__func__", f) for f in exclude)
        skip = {_SYNC_TO_ASYNC.get(f, f) for f in unbound}
        for entry in list(self._reply_func_list):
            if entry.reply_func in skip or not self._match_trigger(entry.trigger, sender):
                continue
            final, reply = await _maybe_await(
                entry.reply_func(self, messages=messages, sender=sender, config=entry.config)
            )
            if final:
                return cast("ReplyValue", reply)
        return self._default_auto_reply

    def generate_reply(
        self,
        messages: list[Message] | None = None,
        sender: Agent | None = None,
        exclude: Iterable[ReplyFunction] = (),
        **kwargs: Any,
    ) -> ReplyValue:
        return run_sync(self.a_generate_reply(messages, sender, exclude, **kwargs))

    # The built-in reply functions, as AutoGen exposes them.
    a_check_termination_and_human_reply = _replies.a_check_termination_and_human_reply
    a_generate_tool_calls_reply = _replies.a_generate_tool_calls_reply
    a_generate_code_execution_reply = _replies.a_generate_code_execution_reply
    a_generate_oai_reply = _replies.a_generate_oai_reply

    def check_termination_and_human_reply(
        self, messages: list[Message] | None = None, sender: Agent | None = None, config: Any = None
    ) -> tuple[bool, ReplyValue]:
        return run_sync(self.a_check_termination_and_human_reply(messages, sender, config))

    def generate_tool_calls_reply(
        self, messages: list[Message] | None = None, sender: Agent | None = None, config: Any = None
    ) -> tuple[bool, ReplyValue]:
        return run_sync(self.a_generate_tool_calls_reply(messages, sender, config))

    def generate_code_execution_reply(
        self, messages: list[Message] | None = None, sender: Agent | None = None, config: Any = None
    ) -> tuple[bool, ReplyValue]:
        return run_sync(self.a_generate_code_execution_reply(messages, sender, config))

    def generate_oai_reply(
        self, messages: list[Message] | None = None, sender: Agent | None = None, config: Any = None
    ) -> tuple[bool, ReplyValue]:
        return run_sync(self.a_generate_oai_reply(messages, sender, config))

    async def _a_ask_model(self, client: LLMClient, messages: list[Message]) -> str | Message | None:
        wire = self._wire.flatten(messages)
        handler = self.stream_handler
        if handler is None and client.config.stream and not self.silent:
            handler = _console.print_stream
        tools = self.llm_config.get("tools") if self.llm_config else None
        response = await client.create(wire, tools=tools, stream_handler=handler)
        reply = response.message
        if reply.tool_calls or not isinstance(reply.content, str):
            return reply
        return reply.content

    async def _a_refusal(self, blocks: list[CodeBlock]) -> str | None:
        """None when the code may run; else why it may not."""
        if self._code_approval is None:
            return None
        return await self._code_approval(blocks)

    @property
    def last_code_result(self) -> CodeResult | None:
        """The full result (files included) of this agent's latest code run."""
        return self._last_code_result

    # -- human input ---------------------------------------------------------------------------

    def get_human_input(self, prompt: str) -> str:
        """Ask the human (AutoGen's hook: override this or :meth:`a_get_human_input` for a UI)."""
        return run_sync(self.human_input_source.get_input(prompt, agent_name=self.name))

    async def a_get_human_input(self, prompt: str) -> str:
        """Ask the human, from the agent's human-input source unless ``get_human_input`` is overridden."""
        if type(self).get_human_input is not ConversableAgent.get_human_input:
            return await asyncio.to_thread(self.get_human_input, prompt)
        return await self.human_input_source.get_input(prompt, agent_name=self.name)

    def _overrides_human_input(self) -> bool:
        cls = type(self)
        return (
            cls.get_human_input is not ConversableAgent.get_human_input
            or cls.a_get_human_input is not ConversableAgent.a_get_human_input
        )

    async def _a_ask_human(self, prompt: str, choices: Sequence[str] | None = None) -> str:
        if choices and not self._overrides_human_input():
            reply = await self.human_input_source.get_input(prompt, agent_name=self.name, choices=choices)
        else:
            reply = await self.a_get_human_input(prompt)
        self._human_input.append(reply)
        record_human_input(reply)
        return reply

    # -- counters and history --------------------------------------------------------------------

    def max_consecutive_auto_reply(self, sender: Agent | None = None) -> int:
        """The auto-reply cap, for ``sender`` or the default."""
        if sender is None:
            return self._max_consecutive_auto_reply
        return self._max_consecutive_auto_reply_dict[sender]

    def update_max_consecutive_auto_reply(self, value: int, sender: Agent | None = None) -> None:
        """Set the auto-reply cap for ``sender``, or for everyone when None."""
        if sender is None:
            self._max_consecutive_auto_reply = value
            for peer in self._max_consecutive_auto_reply_dict:
                self._max_consecutive_auto_reply_dict[peer] = value
        else:
            self._max_consecutive_auto_reply_dict[sender] = value

    def reset_consecutive_auto_reply_counter(self, sender: Agent | None = None) -> None:
        if sender is None:
            self._consecutive_auto_reply_counter.clear()
        else:
            self._consecutive_auto_reply_counter[sender] = 0

    def stop_reply_at_receive(self, sender: Agent | None = None) -> None:
        if sender is None:
            self.reply_at_receive.clear()
        else:
            self.reply_at_receive[sender] = False

    def clear_history(self, recipient: Agent | None = None, nr_messages_to_preserve: int | None = None) -> None:
        """Forget the history with ``recipient`` (everyone when None), keeping the last N if asked."""
        histories = self.chat_messages.values() if recipient is None else [self.chat_messages[recipient]]
        for history in histories:
            keep = history[-nr_messages_to_preserve:] if nr_messages_to_preserve else []
            history[:] = keep

    def reset(self) -> None:
        """Forget histories and counters, and restore every reply function's config."""
        self.clear_history()
        self.reset_consecutive_auto_reply_counter()
        self.stop_reply_at_receive()
        if self.client is not None:
            self.client.clear_usage_summary()
        for entry in self._reply_func_list:
            if entry.reset_config is not None:
                entry.reset_config(entry.config)
            else:
                entry.config = copy.copy(entry.init_config)

    # -- tools -------------------------------------------------------------------------------------

    @property
    def function_map(self) -> dict[str, Callable[..., Any]]:
        """Tool name to function, for the tools this agent executes."""
        return {name: tool.func for name, tool in self._tools.items()}

    def can_execute_function(self, name: str | list[str]) -> bool:
        names = [name] if isinstance(name, str) else name
        return all(n in self._tools for n in names)

    def register_function(self, function_map: Mapping[str, Callable[..., Any] | None]) -> None:
        """Add (or, with None, remove) functions this agent executes when the model calls them."""
        for name, func in function_map.items():
            if func is None:
                self._tools.pop(name, None)
            else:
                self._tools[name] = Tool.from_function(func, name=name, description="", require_schema=False)

    def register_for_llm(
        self, *, name: str | None = None, description: str | None = None, api_style: str = "tool"
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A decorator that offers a function to this agent's model as a tool.

        Raises:
            ConfigurationError: the agent has no llm_config, or the signature cannot be described.
        """
        if api_style != "tool":
            raise ConfigurationError("only api_style='tool' is supported: the function-call API is retired")

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            self._add_tool_schema(Tool.from_function(func, name=name, description=description))
            return func

        return decorator

    def register_for_execution(self, name: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A decorator that makes this agent execute a function when the model calls it.

        Raises:
            ConfigurationError: the tool name is not accepted by the model API.
        """

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            tool = Tool.from_function(func, name=name, description="", require_schema=False)
            self._tools[tool.name] = tool
            return func

        return decorator

    def _add_tool_schema(self, tool: Tool) -> None:
        if not self.llm_config:
            raise ConfigurationError(
                f"register_for_llm: agent {self.name!r} has llm_config=False, so there is no model to offer "
                f"{tool.name!r} to; register it on the agent whose model calls it"
            )
        self.update_tool_signature(tool.schema(), is_remove=False)

    def update_tool_signature(self, tool_sig: str | dict[str, Any], is_remove: bool) -> None:
        """Add or replace a tool schema offered to the model, or remove one by name."""
        if not self.llm_config:
            raise ConfigurationError(f"agent {self.name!r} has llm_config=False: it offers no tools")
        name = tool_sig if isinstance(tool_sig, str) else tool_sig["function"]["name"]
        tools = [t for t in self.llm_config.get("tools", []) if t["function"]["name"] != name]
        if not is_remove:
            if isinstance(tool_sig, str):
                raise ConfigurationError("to add a tool, pass its schema, not its name")
            tools.append(tool_sig)
        if tools:
            self.llm_config["tools"] = tools
        else:
            self.llm_config.pop("tools", None)

    # -- chats (the runner lives in chat_run.py, the queue helpers in chat.py) -------------------------

    async def a_initiate_chat(
        self,
        recipient: ConversableAgent,
        clear_history: bool = True,
        silent: bool | None = False,
        cache: Any = None,
        max_turns: int | None = None,
        summary_method: str | Callable[..., Any] | None = DEFAULT_SUMMARY_METHOD,
        summary_args: dict[str, Any] | None = None,
        message: MessageLike | Callable[..., Any] | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        """Chat with ``recipient``, starting with ``message``, until one of them stops.

        Args:
            recipient: the agent to chat with.
            clear_history: forget both agents' earlier history with each other first.
            silent: do not print the messages.
            cache: a response cache for every model call of this chat.
            max_turns: at most this many rounds of (this agent speaks, recipient replies).
            summary_method: "last_msg", "reflection_with_llm" or ``f(sender, recipient, summary_args)``.
            summary_args: ``summary_prompt``, ``summary_role`` for reflection.
            message: the first message: a string, a dict, or ``f(sender, recipient, context)``;
                None asks the human.
            **kwargs: ``carryover`` (context from earlier chats) and context for a callable message.

        Raises:
            ChatSuspended: a deferred human-input source has no answer yet; resume the run.
            ModelError: the model failed after retries and fallbacks.
        """
        from .chat_run import ChatRun

        run = ChatRun(
            self,
            recipient,
            clear_history=clear_history,
            silent=silent,
            cache=cache,
            max_turns=max_turns,
            summary_method=summary_method,
            summary_args=summary_args,
            message=message,
            **kwargs,
        )
        return await run.a_run_to_end()

    def initiate_chat(
        self,
        recipient: ConversableAgent,
        clear_history: bool = True,
        silent: bool | None = False,
        cache: Any = None,
        max_turns: int | None = None,
        summary_method: str | Callable[..., Any] | None = DEFAULT_SUMMARY_METHOD,
        summary_args: dict[str, Any] | None = None,
        message: MessageLike | Callable[..., Any] | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        """The sync form of :meth:`a_initiate_chat`; works with or without a running event loop."""
        return run_sync(
            self.a_initiate_chat(
                recipient,
                clear_history,
                silent,
                cache,
                max_turns,
                summary_method,
                summary_args,
                message,
                **kwargs,
            )
        )

    async def a_generate_init_message(self, message: MessageLike | None, **kwargs: Any) -> MessageLike:
        """The first message of a chat: ``message`` (asked of the human when None) plus carryover."""
        from .chat import apply_carryover

        if message is None:
            message = await self._a_ask_human(">")
        return apply_carryover(message, kwargs.get("carryover"))

    def generate_init_message(self, message: MessageLike | None, **kwargs: Any) -> MessageLike:
        return run_sync(self.a_generate_init_message(message, **kwargs))

    def _with_sender(self, chat_queue: list[dict[str, Any]]) -> list[dict[str, Any]]:
        queue = []
        for chat in chat_queue:
            if chat.get("sender") not in (None, self):
                raise ConfigurationError(f"{self.name}.initiate_chats: a chat names another sender; leave 'sender' out")
            queue.append({**chat, "sender": self})
        return queue

    def initiate_chats(self, chat_queue: list[dict[str, Any]]) -> list[ChatResult]:
        """Run chats one after another, each getting the earlier summaries as carryover."""
        from .chat import initiate_chats

        return initiate_chats(self._with_sender(chat_queue))

    async def a_initiate_chats(self, chat_queue: list[dict[str, Any]]) -> dict[Any, ChatResult]:
        """Run chats concurrently, each waiting for its ``prerequisites``."""
        from .chat import a_initiate_chats

        return await a_initiate_chats(self._with_sender(chat_queue))

    def register_nested_chats(
        self,
        chat_queue: list[dict[str, Any]],
        trigger: Trigger,
        reply_func_from_nested_chats: str | Callable[..., Any] = "summary_from_nested_chats",
        position: int = 1,
        use_async: bool | None = None,
        **kwargs: Any,
    ) -> None:
        """Reply by running a queue of chats; the last chat's summary is the reply.

        ``position`` 1 is right after the termination and human-input check (AutoGen wrote 2,
        counting its sync and async twins of that check).
        """
        from .chat import nested_chats_reply

        reply = nested_chats_reply(chat_queue, reply_func_from_nested_chats, use_async=bool(use_async))
        self.register_reply(trigger, reply, position, kwargs.get("config"), kwargs.get("reset_config"))

    # -- durable state ---------------------------------------------------------------------------

    def team_members(self) -> list[ConversableAgent]:
        """Agents whose state travels with this one's (a group chat manager's members)."""
        return []

    def take_stop_reason(self) -> str:
        """Why this agent's latest reply was None, in words (and forget it)."""
        return self.take_stop().detail

    def take_stop(self) -> Stop:
        """Why this agent's latest reply was None (and forget it)."""
        stop = self._stop_reason or Stop(StopKind.NO_REPLY, f"{self.name} had no reply")
        self._stop_reason = None
        return stop

    def get_state(self) -> dict[str, Any]:
        """What this agent remembers, as JSON-ready data keyed by peer name."""
        state = self._state
        return {
            "name": self.name,
            "system_message": self._oai_system_message[0].to_dict()["content"],
            "messages": {peer.name: [m.to_dict() for m in msgs] for peer, msgs in state.messages.items()},
            "auto_reply_counts": {_peer_key(p): n for p, n in state.auto_reply_counts.items()},
            "max_auto_reply": {_peer_key(p): n for p, n in self._max_consecutive_auto_reply_dict.items()},
            "reply_at_receive": {peer.name: flag for peer, flag in state.reply_at_receive.items()},
            "human_input": list(self._human_input),
            "usage": self.client.usage.to_json() if self.client else None,
        }

    def set_state(self, state: Mapping[str, Any], peers: Mapping[str, Agent]) -> None:
        """Restore what :meth:`get_state` saved; ``peers`` maps names to this graph's agents.

        Raises:
            ConfigurationError: the state names a peer that ``peers`` does not have.
        """
        from .llm.usage import Usage

        def peer(name: str) -> Agent:
            if name not in peers:
                raise ConfigurationError(
                    f"the saved state of {self.name!r} names agent {name!r}, which is not in the team"
                )
            return peers[name]

        def key(name: str) -> Agent | None:
            return None if name == "" else peer(name)

        self._oai_system_message = [Message(role="system", content=_as_content(state["system_message"]))]
        fresh = _AgentState()
        for name, msgs in state["messages"].items():
            fresh.messages[peer(name)] = [Message.from_dict(m) for m in msgs]
        for name, count in state["auto_reply_counts"].items():
            fresh.auto_reply_counts[key(name)] = count
        for name, flag in state["reply_at_receive"].items():
            fresh.reply_at_receive[peer(name)] = flag
        self._state = fresh
        self._max_consecutive_auto_reply_dict.clear()
        for name, count in state["max_auto_reply"].items():
            self._max_consecutive_auto_reply_dict[key(name)] = count
        self._human_input = list(state["human_input"])
        if self.client is not None and state.get("usage"):
            self.client.usage = Usage.from_json(state["usage"])


# -- helpers -------------------------------------------------------------------------------------

_SYNC_TO_ASYNC: dict[Callable[..., Any], Callable[..., Any]] = {
    ConversableAgent.check_termination_and_human_reply: _replies.a_check_termination_and_human_reply,
    ConversableAgent.generate_tool_calls_reply: _replies.a_generate_tool_calls_reply,
    ConversableAgent.generate_code_execution_reply: _replies.a_generate_code_execution_reply,
    ConversableAgent.generate_oai_reply: _replies.a_generate_oai_reply,
}


def _is_instance(value: Any, cls: type) -> bool:
    # isinstance() against a runtime-checkable Protocol inspects every attribute, every call;
    # every agent here is a ConversableAgent, so answer that case first.
    if cls is Agent and isinstance(value, ConversableAgent):
        return True
    return isinstance(value, cls)


def _peer_key(agent: Agent | None) -> str:
    return "" if agent is None else agent.name


def check_agent_name(name: Any) -> None:
    """Raise ConfigurationError unless the model API accepts ``name`` as a message name."""
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"an agent name must be a non-empty string, not {name!r}")
    problems = []
    if _FORBIDDEN_IN_NAME.search(name):
        problems.append("it may not contain whitespace or any of < | \\ / >")
    if len(name) > 64:
        problems.append("it may be at most 64 characters long")
    if problems:
        suggestion = _FORBIDDEN_IN_NAME.sub("_", name)[:64]
        raise ConfigurationError(
            f"agent name {name!r} is not accepted by the model API: {' and '.join(problems)}; try {suggestion!r}"
        )


def _as_content(system_message: Any) -> Any:
    if system_message is None:
        return ""
    return Message.from_dict({"role": "system", "content": system_message}).content


def _legacy_executor(agent_name: str, config: Mapping[str, Any]) -> CodeExecutor:
    from .coding.legacy import executor_from_legacy_config

    return executor_from_legacy_config(agent_name, config)


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


def register_function(
    f: Callable[..., Any],
    *,
    caller: ConversableAgent,
    executor: ConversableAgent,
    name: str | None = None,
    description: str,
) -> None:
    """Offer ``f`` to ``caller``'s model as a tool, and let ``executor`` run it.

    Raises:
        ConfigurationError: ``caller`` has no model, or ``f``'s signature cannot be described.
    """
    caller.register_for_llm(name=name, description=description)(f)
    executor.register_for_execution(name=name)(f)
