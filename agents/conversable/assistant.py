"""AssistantAgent: a model-backed agent that writes code for others to run."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from ._base import HumanInputMode
from .agent import ConversableAgent

__all__ = ["AssistantAgent"]


class AssistantAgent(ConversableAgent):
    """A ConversableAgent with a model, no human input and no code execution by default.

    Its system message asks the model to solve tasks step by step, to put code for others to
    run in fenced ``python`` or ``sh`` blocks, and to answer TERMINATE when the task is done.
    """

    DEFAULT_SYSTEM_MESSAGE = """You are a helpful AI assistant that solves tasks with your language and coding skills.
When a task needs information or an action, write code that gets it done: a ```python block for Python,
a ```sh block for shell commands. Someone else runs your code and tells you what it printed; they will
not edit it, so give complete code, one block per answer, and print the results you need to see.
To have the code saved to a file first, make its first line a comment like `# filename: <name>`.
If the code fails, read the error, fix the problem and send the corrected code in full. If it cannot be
fixed, or the result is still wrong, rethink the approach, gather what you are missing, and try another.
When you use what you already know, say how you got there. Check your answer; cite sources when you
can. When everything is done, answer TERMINATE."""

    DEFAULT_DESCRIPTION = (
        "A helpful and general-purpose AI assistant that has strong problem-solving skills "
        "using Python and Linux command line."
    )

    def __init__(
        self,
        name: str,
        system_message: str | None = DEFAULT_SYSTEM_MESSAGE,
        llm_config: Mapping[str, Any] | Literal[False] | None = None,
        is_termination_msg: Callable[[Any], bool] | None = None,
        max_consecutive_auto_reply: int | None = None,
        human_input_mode: HumanInputMode = "NEVER",
        description: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            name,
            system_message,
            is_termination_msg,
            max_consecutive_auto_reply,
            human_input_mode,
            llm_config=llm_config,
            description=description,
            **kwargs,
        )
        if description is None and system_message == self.DEFAULT_SYSTEM_MESSAGE:
            self.description = self.DEFAULT_DESCRIPTION
