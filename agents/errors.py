"""The errors of the agent layer.

Everything agents/ raises on purpose derives from :class:`AgentError`::

    AgentError
    ├── ConfigurationError (ValueError)     misuse: llm_config, agent name, tool signature, ...
    │   ├── InvalidCarryOverTypeError       carryover is neither a string nor a list
    │   ├── AgentNameConflict               two agents of a group answer to the same name
    │   └── UndefinedNextAgent              next-speaker candidates that are not in the group
    ├── InvalidMessageError (ValueError)    a message with neither content nor tool calls
    ├── SenderRequiredError                 a name trigger was matched without a sender
    ├── ModelError                          the model endpoint failed after retries and fallbacks
    ├── HumanInputError                     a human-input source cannot answer (scripted answers ran out)
    ├── CodeExecutionError                  code could not be run at all (no Docker engine, no image)
    └── ChatSuspended                       a chat stopped to wait for a human; ``.run`` resumes it

:class:`HumanInputRequired` is control flow, not an error: a human-input source raises it
when nobody has answered yet, and the chat loop turns it into a durable wait. It derives
from ``BaseException`` so that a reply function's ``except Exception`` cannot swallow it.

``str(exc)`` is for developers. What a chat thread is told is a separate, safe message.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "AgentError",
    "AgentNameConflict",
    "ChatSuspended",
    "CodeExecutionError",
    "ConfigurationError",
    "HumanInputError",
    "HumanInputRequired",
    "InvalidCarryOverTypeError",
    "InvalidMessageError",
    "ModelError",
    "SenderRequiredError",
    "UndefinedNextAgent",
    "redact_secrets",
]


class AgentError(Exception):
    """The root of every error the agent layer raises on purpose."""


class ConfigurationError(AgentError, ValueError):
    """The agent layer was set up wrongly; the message names the setting and the fix."""


class InvalidCarryOverTypeError(ConfigurationError):
    """``carryover`` must be a string or a list of strings (or messages)."""


class AgentNameConflict(ConfigurationError):
    """More than one agent of a group chat goes by the name that was looked up (AutoGen's name)."""

    def __init__(self, msg: str = "Found multiple agents with the same name.", *args: object) -> None:
        super().__init__(msg, *args)


class UndefinedNextAgent(ConfigurationError):
    """The agents offered as next speakers are not members of the group chat (AutoGen's name)."""

    def __init__(
        self, msg: str = "The provided agents list does not overlap with agents in the group.", *args: object
    ) -> None:
        super().__init__(msg, *args)


class InvalidMessageError(AgentError, ValueError):
    """A message cannot become a chat-completion message."""


class SenderRequiredError(AgentError):
    """A reply trigger given as an agent name needs a sender to compare with."""


class HumanInputError(AgentError):
    """A human-input source cannot produce an answer."""


class CodeExecutionError(AgentError):
    """Code could not be run at all: the sandbox is unavailable (code that ran and failed is
    not an error; its exit code and output go back to the agents)."""


class ModelError(AgentError):
    """The model endpoint failed, after the client's retries and every fallback config.

    Attributes:
        status: the HTTP status of the last failure, when there was a response.
        retry_after: seconds the endpoint asked to wait, when it said so.
        model: the model of the last config tried.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        model: str | None = None,
    ) -> None:
        super().__init__(redact_secrets(message))
        self.status = status
        self.retry_after = retry_after
        self.model = model


class ChatSuspended(AgentError):
    """A chat is waiting for a human and cannot go on in this call.

    ``run`` is the suspended run (a :class:`~agents.ChatRun`): persist ``run.to_json()``, and
    later deliver the answer with ``run.deliver(...)`` and continue with ``run.a_run()``.
    """

    def __init__(self, run: Any) -> None:
        wait = run.waiting
        who = wait.agent if wait else "a human"
        super().__init__(f"the chat waits for human input for {who!r}; deliver it to the run to continue")
        self.run = run


class HumanInputRequired(BaseException):
    """Control flow: nobody has answered the prompt yet.

    Raised by a deferred human-input source; the chat loop catches it at the step boundary
    and records a wait. Reply functions must not catch it.
    """

    def __init__(self, agent: str, prompt: str, choices: tuple[str, ...] = (), kind: str = "question") -> None:
        super().__init__(f"waiting for human input for {agent!r}")
        self.agent = agent
        self.prompt = prompt
        self.choices = choices
        self.kind = kind  # a WaitKind: question, approval, speaker


_SECRET = re.compile(r"\b(sk-[A-Za-z0-9_\-*]{6,}|xox[abposr]-[A-Za-z0-9\-]{6,}|Bearer\s+[A-Za-z0-9._\-]{8,})")


def redact_secrets(text: str) -> str:
    """Replace anything shaped like an API key or bearer token with ``[redacted]``."""
    return _SECRET.sub("[redacted]", text)
