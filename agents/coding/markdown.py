"""AutoGen's ``MarkdownCodeExtractor``: the fenced code blocks of a message's content."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..messages import content_str
from .base import CodeBlock, extract_code_blocks

__all__ = ["MarkdownCodeExtractor"]


class MarkdownCodeExtractor:
    """Finds fenced code blocks in markdown; unlabelled blocks get an inferred language."""

    def extract_code_blocks(self, message: str | Sequence[Any] | None) -> list[CodeBlock]:
        """The code blocks of ``message`` (a string, a list of content parts, or None)."""
        if message is None:
            return []
        text = message if isinstance(message, str) else content_str(message)
        return extract_code_blocks(text)
