"""Code blocks, their results, the executor protocol, and extraction from markdown."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

__all__ = ["CodeBlock", "CodeExecutor", "CodeFile", "CodeResult", "extract_code_blocks", "infer_language"]


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """One fenced code block: its code and its language (``python``, ``sh``, or as labelled)."""

    code: str
    language: str


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


class CodeExecutor(Protocol):
    """Runs code blocks for one conversation."""

    async def execute_code_blocks(self, code_blocks: list[CodeBlock]) -> CodeResult: ...

    async def restart(self) -> None: ...

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
        language = _LANGUAGES.get(label.lower(), label.lower()) if label else infer_language(code)
        blocks.append(CodeBlock(code=code, language=language))
    return blocks
