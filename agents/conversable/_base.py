"""The core every ConversableAgent part builds on: identity, the model, human input, code approval.

:class:`AgentCore` declares the attributes that :class:`~agents.conversable.ConversableAgent`
sets up, so that each part (reply registry, hooks, tools, messaging, chats, state) can be
read and type-checked on its own.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from .. import _console
from .._sync import run_sync
from ..agent import Agent
from ..coding.base import CodeBlock, CodeExecutor, CodeResult
from ..errors import ConfigurationError
from ..human_input import HumanInputSource, HumanReply, record_human_input
from ..llm.base import StreamHandler
from ..llm.client import LLMClient
from ..messages import Message, WireCache, as_message, content_str
from ..outcome import Stop

if TYPE_CHECKING:
    from ..tools import Tool

__all__ = [
    "AgentCore",
    "AgentState",
    "CodeApproval",
    "HumanInputMode",
    "ReplyFunction",
    "ReplyValue",
    "Trigger",
    "as_message",
    "check_agent_name",
    "default_is_termination_msg",
    "maybe_await",
]

HumanInputMode: TypeAlias = Literal["ALWAYS", "TERMINATE", "NEVER"]
ReplyValue: TypeAlias = "str | dict[str, Any] | Message | None"
ReplyFunction: TypeAlias = Callable[..., "tuple[bool, ReplyValue] | Awaitable[tuple[bool, ReplyValue]]"]
Trigger: TypeAlias = "type | str | Agent | Callable[[Agent | None], bool] | list[Any] | None"
CodeApproval: TypeAlias = Callable[[list[CodeBlock]], Awaitable["str | None"]]
"""An async policy over code about to run: None approves, a string denies and says why."""

_FORBIDDEN_IN_NAME = re.compile(r"[\s<|\\/>]")


@dataclass(slots=True)
class AgentState:
    """What an agent remembers between turns (see :meth:`ConversableAgent.get_state`)."""

    messages: defaultdict[Agent, list[Message]] = field(default_factory=lambda: defaultdict(list))
    auto_reply_counts: defaultdict[Agent | None, int] = field(default_factory=lambda: defaultdict(int))
    reply_at_receive: defaultdict[Agent, bool] = field(default_factory=lambda: defaultdict(bool))


class AgentCore:
    """Identity, the model call, human input and code approval of a ConversableAgent."""

    _threadcrew_conversable = True  # what agents.agent.is_conversable looks for

    _name: str
    _description: str
    _oai_system_message: list[Message]
    _is_termination_msg: Callable[[Any], bool]
    _max_consecutive_auto_reply: int
    _max_consecutive_auto_reply_dict: defaultdict[Agent | None, int]
    human_input_mode: HumanInputMode
    human_input_source: HumanInputSource
    stream_handler: StreamHandler | None
    silent: bool | None
    _default_auto_reply: str | dict[str, Any]
    _state: AgentState
    _human_input: list[str]
    _tools: dict[str, Tool]
    llm_config: dict[str, Any] | Literal[False]
    client: LLMClient | None
    _code_executor: CodeExecutor | None
    _code_approval: CodeApproval | None
    _last_n_messages: int | Literal["auto"]
    _last_code_result: CodeResult | None
    _stop_reason: Stop | None
    _wire: WireCache

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

    def is_termination(self, message: Message) -> bool:
        """Whether ``message`` ends the chat, by this agent's ``is_termination_msg`` (given the dict)."""
        check = self._is_termination_msg
        if check is default_is_termination_msg:
            return default_is_termination_msg(message)
        return bool(check(message.to_dict()))

    def max_consecutive_auto_reply(self, sender: Agent | None = None) -> int:
        """The auto-reply cap, for ``sender`` or the default."""
        if sender is None:
            return self._max_consecutive_auto_reply
        return self._max_consecutive_auto_reply_dict[sender]

    # -- the model ---------------------------------------------------------------------------

    async def _a_ask_model(self, client: LLMClient, messages: list[Message]) -> str | Message | None:
        wire = self._wire.flatten(messages)
        handler = self.stream_handler
        if handler is None and client.config.stream and not self.silent:
            handler = _console.print_stream
        tools = self.llm_config.get("tools") if self.llm_config else None
        context = messages[-1].context if messages else None  # AutoGen's message "context"
        response = await client.create(wire, tools=tools, stream_handler=handler, context=context)
        reply = response.message
        if reply.tool_calls or not isinstance(reply.content, str):
            return reply
        return reply.content

    # -- code execution ------------------------------------------------------------------------

    @property
    def code_executor(self) -> CodeExecutor | None:
        """The executor of this agent's code execution reply, or None."""
        return self._code_executor

    @property
    def last_code_result(self) -> CodeResult | None:
        """The full result (files included) of this agent's latest code run."""
        return self._last_code_result

    async def _a_refusal(self, blocks: list[CodeBlock]) -> str | None:
        """None when the code may run; else why it may not."""
        if self._code_approval is None:
            return None
        return await self._code_approval(blocks)

    # -- human input ---------------------------------------------------------------------------

    def get_human_input(self, prompt: str) -> HumanReply:
        """Ask the human (AutoGen's hook: override this or :meth:`a_get_human_input` for a UI)."""
        return run_sync(self.human_input_source.get_input(prompt, agent_name=self.name))

    async def a_get_human_input(self, prompt: str) -> HumanReply:
        """Ask the human, from the agent's human-input source unless ``get_human_input`` is overridden."""
        if type(self).get_human_input is not AgentCore.get_human_input:
            return await asyncio.to_thread(self.get_human_input, prompt)
        return await self.human_input_source.get_input(prompt, agent_name=self.name)

    def _overrides_human_input(self) -> bool:
        cls = type(self)
        return (
            cls.get_human_input is not AgentCore.get_human_input
            or cls.a_get_human_input is not AgentCore.a_get_human_input
        )

    async def _a_ask_human(self, prompt: str, choices: Sequence[str] | None = None) -> str:
        """What the human answered, as text."""
        return content_str(await self._a_ask_human_content(prompt, choices))

    async def _a_ask_human_content(self, prompt: str, choices: Sequence[str] | None = None) -> HumanReply:
        """What the human answered: text, or content parts when they attached images."""
        reply: HumanReply
        if choices and not self._overrides_human_input():
            reply = await self.human_input_source.get_input(prompt, agent_name=self.name, choices=choices)
        else:
            reply = await self.a_get_human_input(prompt)
        said = content_str(reply)
        self._human_input.append(said)
        record_human_input(said)
        return reply


def default_is_termination_msg(message: Mapping[str, Any] | Message) -> bool:
    """AutoGen's default: the message's content is exactly "TERMINATE"."""
    if isinstance(message, Message):
        return message.text == "TERMINATE"
    return content_str(message.get("content")) == "TERMINATE"


async def maybe_await(value: Any) -> Any:
    """``value``, awaited when it is awaitable (reply functions and hooks may be sync or async)."""
    if inspect.isawaitable(value):
        return await value
    return value


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
