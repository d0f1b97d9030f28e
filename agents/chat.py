"""What every chat ends with: its result and its summary; and the carryover a chat starts with.

The summary has one code path for two-agent chats and group chats (:func:`a_summarize`).
Queues of chats are in :mod:`agents.chat_queue`.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .agent import Agent
from .errors import ConfigurationError, InvalidCarryOverTypeError, ModelError
from .llm.client import LLMClient
from .llm.usage import UsageSummary
from .messages import Message, MessageLike, TextPart, content_str

__all__ = [
    "SUMMARY_METHODS",
    "ChatResult",
    "a_summarize",
    "apply_carryover",
    "check_summary_method",
    "summary_text",
]

_log = logging.getLogger(__name__)

SUMMARY_METHODS = ("last_msg", "reflection_with_llm")
DEFAULT_SUMMARY_PROMPT = "Summarize the takeaway from the conversation. Do not add any introductory phrases."


@dataclass(slots=True)
class ChatResult:
    """What a chat produced.

    Attributes:
        chat_id: the chat's id (given, or generated).
        chat_history: the initiating agent's history with the recipient (a group chat's
            transcript), as AutoGen dicts; the run's ``transcript`` has them typed.
        summary: per the chat's ``summary_method``.
        cost: tokens and cost of every model call made during this chat (summary, nested
            chats and speaker selection included), in AutoGen's two-part format.
        human_input: what humans typed during the chat, in order.
        stop_reason: why the chat ended (a termination condition, a termination message,
            the turn or round limit, a human's "exit", ...), when known.
    """

    chat_id: Any = None
    chat_history: list[dict[str, Any]] = field(default_factory=list)
    summary: str = ""
    cost: UsageSummary = field(default_factory=dict)
    human_input: list[str] = field(default_factory=list)
    stop_reason: str | None = None


# -- carryover ------------------------------------------------------------------------------------


def _carryover_text(carryover: Any) -> str:
    items: list[Any]
    if isinstance(carryover, str):
        items = [carryover]
    elif isinstance(carryover, list):
        items = carryover
    else:
        raise InvalidCarryOverTypeError(
            f"carryover must be a string or a list of strings, not {type(carryover).__name__}"
        )
    texts = []
    for item in items:
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, Mapping) and "content" in item:
            texts.append(str(item["content"]))
        else:
            texts.append(str(item))
    return "\nContext: \n" + "\n".join(texts)


def apply_carryover(message: MessageLike, carryover: Any) -> MessageLike:
    """Append the carryover to a first message, AutoGen's way ("\\nContext: \\n" + items).

    Raises:
        InvalidCarryOverTypeError: carryover is neither a string nor a list.
    """
    if not carryover:
        return message
    text = _carryover_text(carryover)
    if isinstance(message, str):
        return message + text
    data = message.to_dict() if isinstance(message, Message) else message
    content = data.get("content")
    if isinstance(content, str):
        return {**data, "content": content + text}
    if isinstance(content, (list, tuple)):
        return {**data, "content": [TextPart(text).to_dict(), *content]}
    return message


# -- summaries: one code path for two-agent and group chats ------------------------------------------


def check_summary_method(method: Any, sender: Agent, recipient: Agent) -> None:
    """Raise ConfigurationError for a summary method that cannot work for these agents."""
    if method is None or callable(method):
        return
    if method not in SUMMARY_METHODS:
        raise ConfigurationError(
            f"summary_method {method!r} is not supported; use one of {', '.join(SUMMARY_METHODS)} or a callable"
        )
    if method == "reflection_with_llm" and _client(recipient) is None and _client(sender) is None:
        raise ConfigurationError(
            f"summary_method 'reflection_with_llm' needs a model: neither {sender.name!r} nor "
            f"{recipient.name!r} has an llm_config"
        )


async def a_summarize(
    method: str | Callable[..., Any] | None,
    summary_args: Mapping[str, Any],
    sender: Agent,
    recipient: Agent,
    history: Sequence[Message],
) -> str:
    """The summary of a chat that ``sender`` started with ``recipient`` (an agent or a group's manager).

    Args:
        method: "last_msg" (the last message of ``history``, without "TERMINATE"),
            "reflection_with_llm" (the recipient's model, else the sender's, asked over
            ``history``; without a model, "last_msg"), or ``f(sender, recipient, summary_args)``
            whose result becomes text (a message's content; None is "").
        summary_args: ``summary_prompt`` and ``summary_role`` for reflection.
        history: the chat's messages (the pair's history, or the group chat's transcript).

    Raises:
        ConfigurationError: summary_prompt or summary_role is not a string.
        ModelError: the model failed, other than refusing the request (HTTP 400: the summary is "").
    """
    if method is None:
        return ""
    if callable(method):
        result = method(sender, recipient, dict(summary_args))
        return summary_text(await result if inspect.isawaitable(result) else result)
    client = _client(recipient) or _client(sender)
    if method == "reflection_with_llm" and client is not None:
        default = getattr(recipient if _client(recipient) else sender, "DEFAULT_SUMMARY_PROMPT", DEFAULT_SUMMARY_PROMPT)
        return await _reflection_summary(summary_args, history, client, default)
    return history[-1].text.replace("TERMINATE", "").strip() if history else ""


def summary_text(result: Any) -> str:
    """A summary callable's result as text: a message's content, a string as is, None as ""."""
    if result is None:
        return ""
    if isinstance(result, str):
        return result
    if isinstance(result, Message):
        return result.text
    if isinstance(result, Mapping):
        return content_str(result.get("content"))
    return str(result)


def _client(agent: Agent) -> LLMClient | None:
    client = getattr(agent, "client", None)
    return client if isinstance(client, LLMClient) else None


async def _reflection_summary(
    summary_args: Mapping[str, Any], history: Sequence[Message], client: LLMClient, default_prompt: str
) -> str:
    prompt = summary_args.get("summary_prompt") or default_prompt
    role = summary_args.get("summary_role") or "system"
    if not isinstance(prompt, str) or not isinstance(role, str):
        raise ConfigurationError("summary_args['summary_prompt'] and ['summary_role'] must be strings")
    wire = [part for m in history for part in m.wire()] + [{"role": role, "content": prompt}]
    try:
        response = await client.create(wire)
    except ModelError as exc:
        if exc.status != 400:
            raise
        _log.warning("the model refused the summary request (%s); the summary is empty", exc)
        return ""
    return response.message.text
