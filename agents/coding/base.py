"""Code blocks, their results, the executor protocols, and extraction from markdown.

:class:`CodeExecutor` is AutoGen's protocol (``code_extractor``, a plain synchronous
``execute_code_blocks``, ``restart``) and is runtime-checkable, so ``isinstance`` works on our
executors and on ones users write. :class:`AsyncCodeExecutor` is what ours also are: the
async implementation (``a_execute_code_blocks``, ``a_restart``) and ``stop``, which agents and
the bot await.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "AsyncCodeExecutor",
    "CodeBlock",
    "CodeExecutor",
    "CodeExtractor",
    "CodeFile",
    "CodeResult",
    "extract_code_blocks",
    "infer_language",
    "normalise_language",
]


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """One code block: its code and its language.

    The language is normalised as the executors know it: ``python`` (also ``py``,
    ``python3``, any case) and ``sh`` (also ``bash``, ``shell``, ``console``, ``zsh``); others
    are kept, lower-cased.
    """

    code: str
    language: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "language", normalise_language(self.language))


@dataclass(frozen=True, slots=True)
class CodeFile:
    """A file the code created or changed in its work dir.

    ``data`` is None when the file is larger than the executor's cap; ``size`` is always set.
    """

    name: str
    mime_type: str
    size: int
    data: bytes | None


@dataclass(frozen=True, slots=True)
class CodeResult:
    """What running code blocks gave: exit code (124 on timeout), output, files."""

    exit_code: int
    output: str
    files: tuple[CodeFile, ...] = ()
    code_file: str | None = None
    """The file the last block ran from (inside the container for the Docker executor)."""


@runtime_checkable
class CodeExtractor(Protocol):
    """Finds the code blocks in a message's content (AutoGen's protocol)."""

    def extract_code_blocks(self, message: str | Sequence[Any] | None) -> list[CodeBlock]: ...


@runtime_checkable
class CodeExecutor(Protocol):
    """Runs code blocks for one conversation (AutoGen's protocol: every call is synchronous)."""

    @property
    def code_extractor(self) -> CodeExtractor: ...

    def execute_code_blocks(self, code_blocks: list[CodeBlock]) -> CodeResult: ...

    def restart(self) -> None: ...


@runtime_checkable
class AsyncCodeExecutor(CodeExecutor, Protocol):
    """A :class:`CodeExecutor` whose implementation is async (ours are)."""

    async def a_execute_code_blocks(self, code_blocks: list[CodeBlock]) -> CodeResult: ...

    async def a_restart(self) -> None: ...

    async def stop(self) -> None: ...


_FENCE = re.compile(r"```[ \t]*([\w+.#-]*)[ \t]*\r?\n(.*?)\r?\n[ \t]*```", re.DOTALL)

_LANGUAGES = {
    "python": "python",
    "py": "python",
    "python3": "python",
    "sh": "sh",
    "bash": "sh",
    "shell": "sh",
    "console": "sh",
    "zsh": "sh",
}
_SHELL_WORDS = frozenset(
    {
        "pip",
        "pip3",
        "python",
        "python3",
        "ls",
        "cd",
        "echo",
        "cat",
        "mkdir",
        "rm",
        "cp",
        "mv",
        "curl",
        "wget",
        "apt",
        "apt-get",
        "git",
        "export",
        "chmod",
        "touch",
        "grep",
        "sed",
        "awk",
        "head",
        "tail",
    }
)


def normalise_language(language: str) -> str:
    """``python`` or ``sh`` for the names they go by; any other language lower-cased."""
    lowered = language.strip().lower()
    return _LANGUAGES.get(lowered, lowered)


def infer_language(code: str) -> str:
    """``sh`` for shell commands, ``python`` for code that compiles, else ``unknown``."""
    first = code.lstrip().split(maxsplit=1)
    if first and first[0] in _SHELL_WORDS:
        return "sh"
    try:
        compile(code, "<code block>", "exec")
    except (SyntaxError, ValueError):
        return "unknown"
    return "python"


def extract_code_blocks(text: str) -> list[CodeBlock]:
    """The fenced code blocks of a markdown text, languages normalised or inferred."""
    blocks = []
    for label, code in _FENCE.findall(text):
        blocks.append(CodeBlock(code=code, language=label or infer_language(code)))
    return blocks
