"""The built-in reply functions of ConversableAgent, in the order they are tried.

1. termination and human input (``check_termination_and_human_reply``)
2. tool calls (``generate_tool_calls_reply``)
3. code execution (``generate_code_execution_reply``)
4. the model (``generate_oai_reply``)

Each takes ``(agent, messages, sender, config)`` and returns ``(final, reply)``: when
``final`` is true, ``reply`` (None meaning "stop") is the agent's answer, a string or an
AutoGen dict. ``messages`` may be Messages or AutoGen dicts.

Nothing here changes the agent's state before it asks a human: when the ask suspends the
chat, replaying the step after the answer arrives gives the same result as not stopping.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._classic import classic, typed_messages
from ..coding.base import extract_code_blocks
from ..coding.executor import a_run_code_blocks
from ..human_input import HumanReply
from ..messages import Message, MessageLike
from ..outcome import Stop, StopKind, record_code_result
from ..tools import execute_tool_calls
from ._base import AgentCore

if TYPE_CHECKING:
    from ..agent import Agent
    from ..llm.client import LLMClient

__all__ = [
    "a_check_termination_and_human_reply",
    "a_generate_code_execution_reply",
    "a_generate_oai_reply",
    "a_generate_tool_calls_reply",
]

_log = logging.getLogger(__name__)

Reply = tuple[bool, "str | dict[str, Any] | Message | None"]

_ALWAYS_PROMPT = (
    "Replying as {me}. Provide feedback to {sender}. Press enter to skip and use auto-reply, "
    "or type 'exit' to end the conversation: "
)
_STOP_PROMPT = "Please give feedback to {sender}. Press enter or type 'exit' to stop the conversation: "
_SKIP_PROMPT = (
    "Please give feedback to {sender}. Press enter to skip and use auto-reply, "
    "or type 'exit' to stop the conversation: "
)
USER_INTERRUPTED = "USER INTERRUPTED"


def _history(agent: AgentCore, messages: Sequence[MessageLike] | None, sender: Agent | None) -> list[Message]:
    """The messages to reply to: the given ones (dicts too, as AutoGen users pass them), or the history."""
    if messages is None:
        return agent._state.messages[sender] if sender is not None else []
    if sender is not None and messages is agent._state.messages.get(sender):
        return agent._state.messages[sender]  # the stored history: typed, no need to look
    return typed_messages(messages)


async def a_check_termination_and_human_reply(
    agent: AgentCore,
    messages: Sequence[MessageLike] | None = None,
    sender: Agent | None = None,
    config: Any = None,
) -> Reply:
    """Ask the human when the mode says so; stop on "exit", termination or the auto-reply cap.

    The rules are AutoGen's: in ALWAYS mode the human is asked every turn and an empty
    answer means auto-reply (or stop, when the last message is a termination message); in
    TERMINATE mode the human is asked only at a termination message or when the sender's
    auto-reply cap is reached; NEVER mode never asks and stops in those two cases.
    """
    history = _history(agent, messages, sender)
    if not history:
        return False, None
    message = history[-1]
    names = {"me": agent.name, "sender": "the sender" if sender is None else sender.name}
    mode = agent.human_input_mode
    limit = agent.max_consecutive_auto_reply(sender)
    reply: HumanReply = ""
    if mode == "ALWAYS":
        reply = await agent._a_ask_human_content(_ALWAYS_PROMPT.format(**names))
        if not reply and agent.is_termination(message):
            reply = "exit"
    elif agent._state.auto_reply_counts[sender] >= limit:
        if mode == "NEVER":
            reply = "exit"
        else:
            terminate = agent.is_termination(message)
            reply = await agent._a_ask_human_content((_STOP_PROMPT if terminate else _SKIP_PROMPT).format(**names))
            if not reply and terminate:
                reply = "exit"
    elif agent.is_termination(message):
        reply = (
            "exit" if mode == "NEVER" else (await agent._a_ask_human_content(_STOP_PROMPT.format(**names)) or "exit")
        )

    if reply == "exit":
        agent._state.auto_reply_counts[sender] = 0
        agent._stop_reason = _why_stop(agent, names["sender"], message, mode, limit)
        return True, None
    if reply or limit == 0:
        response: dict[str, Any] = {"role": "user", "content": reply}
        if message.tool_calls:
            # The human spoke instead of the tools: every open call still gets a result.
            response["tool_responses"] = [
                {"tool_call_id": call.id, "role": "tool", "content": USER_INTERRUPTED} for call in message.tool_calls
            ]
        return True, response
    agent._state.auto_reply_counts[sender] += 1
    return False, None


def _why_stop(agent: AgentCore, sender: str, message: Message, mode: str, limit: int) -> Stop:
    if mode != "NEVER" and agent._human_input and agent._human_input[-1] == "exit":
        return Stop(StopKind.HUMAN_EXIT, f"exit typed for {agent.name}")
    if agent.is_termination(message):
        return Stop(StopKind.TERMINATION_MESSAGE, f"termination message from {sender}")
    return Stop(StopKind.AUTO_REPLY_LIMIT, f"{agent.name} reached max_consecutive_auto_reply ({limit})")


async def a_generate_tool_calls_reply(
    agent: AgentCore,
    messages: Sequence[MessageLike] | None = None,
    sender: Agent | None = None,
    config: Any = None,
) -> Reply:
    """Run the tool calls of the last message, concurrently; errors come back as text."""
    history = _history(agent, messages, sender)
    if not history or not history[-1].tool_calls:
        return False, None
    calls = history[-1].tool_calls
    _log.info("%s runs tools: %s", agent.name, ", ".join(c.name for c in calls))
    responses = await execute_tool_calls(calls, agent._tools)
    return True, {
        "role": "tool",
        "content": "\n\n".join(r.content for r in responses),
        "tool_responses": [r.to_dict() for r in responses],
    }


async def a_generate_code_execution_reply(
    agent: AgentCore,
    messages: Sequence[MessageLike] | None = None,
    sender: Agent | None = None,
    config: Any = None,
) -> Reply:
    """Run the code blocks of the latest messages that have some.

    ``last_n_messages`` (from ``code_execution_config``) says how many recent messages to
    scan; ``"auto"`` scans the messages received since this agent last spoke.
    """
    executor = agent.code_executor
    if executor is None:
        return False, None
    history = _history(agent, messages, sender)
    scan = agent._last_n_messages
    if scan == "auto":
        count = 0
        for message in reversed(history):
            if message.role != "user":
                break
            count += 1
        scan = count
    for message in reversed(history[len(history) - min(int(scan), len(history)) :]):
        blocks = extract_code_blocks(message.text) if message.content else []
        if not blocks:
            continue
        refused = await agent._a_refusal(blocks)
        if refused is not None:
            record_code_result(agent.name, refused)
            return True, f"exitcode: 1 (execution denied)\nCode output: {refused}"
        _log.info("%s runs %d code block(s): %s", agent.name, len(blocks), ", ".join(b.language for b in blocks))
        result = await a_run_code_blocks(executor, blocks)
        agent._last_code_result = result
        record_code_result(agent.name, result)
        status = "execution succeeded" if result.exit_code == 0 else "execution failed"
        return True, f"exitcode: {result.exit_code} ({status})\nCode output: {result.output}"
    return False, None


async def a_generate_oai_reply(
    agent: AgentCore,
    messages: Sequence[MessageLike] | None = None,
    sender: Agent | None = None,
    config: Any = None,
) -> Reply:
    """Ask the agent's model (``config`` may be another client), with its tools offered."""
    client: LLMClient | None = config if config is not None else agent.client
    if client is None:
        return False, None
    history = _history(agent, messages, sender)
    reply = await agent._a_ask_model(client, [*agent._oai_system_message, *history])
    return (False, None) if reply is None else (True, classic(reply))
