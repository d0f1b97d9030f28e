"""AutoGen's ``code_utils``: find code in text, guess its language, run it once.

``extract_code`` and ``infer_lang`` keep AutoGen's return shapes (language labels as written,
``"unknown"`` for text without code). ``execute_code`` runs one piece of code with the same
executors agents use, chosen as AutoGen's legacy ``use_docker`` says (Docker unless told not
to, or ``AUTOGEN_USE_DOCKER=false``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ._sync import run_sync
from .coding._shared import declared_filename
from .coding.base import CodeBlock, infer_language
from .coding.legacy import executor_from_legacy_config
from .errors import ConfigurationError
from .messages import content_str

__all__ = [
    "CODE_BLOCK_PATTERN",
    "DEFAULT_TIMEOUT",
    "UNKNOWN",
    "WORKING_DIR",
    "content_str",
    "execute_code",
    "extract_code",
    "infer_lang",
]

UNKNOWN = "unknown"
DEFAULT_TIMEOUT = 600
WORKING_DIR = "coding"
"""Where ``execute_code`` writes and runs code when no ``work_dir`` is given (relative to the cwd)."""
CODE_BLOCK_PATTERN = r"```[ \t]*([\w+.#-]*)[ \t]*\r?\n(.*?)\r?\n[ \t]*```"
_INLINE = re.compile(r"`([^`\n]+)`")


def infer_lang(code: str) -> str:
    """``"sh"`` for shell commands, ``"python"`` for code that compiles, else ``"unknown"``."""
    return infer_language(code)


def extract_code(
    text: str | list[Any] | None, pattern: str = CODE_BLOCK_PATTERN, detect_single_line_code: bool = False
) -> list[tuple[str, str]]:
    """``(language, code)`` for each code block in ``text``; ``[("unknown", text)]`` when there is none.

    Args:
        text: a message's content (a string, or a list of content parts).
        pattern: the regular expression of a block (two groups: language, code).
        detect_single_line_code: also take inline code in single backticks (language ``""``).
    """
    text = content_str(text)
    if detect_single_line_code:
        found = [(lang, code) for lang, code in re.findall(pattern, text, flags=re.DOTALL)]
        rest = re.sub(pattern, "", text, flags=re.DOTALL)
        found += [("", code.strip()) for code in _INLINE.findall(rest)]
    else:
        found = re.findall(pattern, text, flags=re.DOTALL)
    return found if found else [(UNKNOWN, text)]


def execute_code(
    code: str | None = None,
    timeout: float | None = None,
    filename: str | None = None,
    work_dir: str | None = None,
    use_docker: bool | str | list[str] | None = None,
    lang: str | None = "python",
) -> tuple[int, str, str | None]:
    """Run ``code`` (or the file ``filename`` in ``work_dir``) and wait for it.

    Args:
        code: the code; None runs ``filename`` as it is.
        timeout: seconds (default :data:`DEFAULT_TIMEOUT`); a timeout gives exit code 124.
        filename: the file to write the code to, relative to ``work_dir``.
        work_dir: where the code runs (default :data:`WORKING_DIR`).
        use_docker: True / an image name (a list: its first) for Docker, False for this machine;
            None reads ``AUTOGEN_USE_DOCKER`` (default: Docker).
        lang: ``python`` or ``sh`` (``bash``, ``shell``, ``py``, ... accepted).

    Returns:
        ``(exit_code, output, image)``: ``image`` is the Docker image used, or None.

    Raises:
        ConfigurationError: neither ``code`` nor ``filename``; Docker asked for but not running.
    """
    if code is None and filename is None:
        raise ConfigurationError("execute_code needs code, or the filename of code in work_dir")
    directory = Path(work_dir or WORKING_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    if code is None:
        assert filename is not None
        code = (directory / filename).read_text()
    if filename is not None and declared_filename(code) != filename:
        code = f"# filename: {filename}\n{code}"
    if isinstance(use_docker, list):
        use_docker = use_docker[0] if use_docker else True
    config = {"work_dir": str(directory), "use_docker": use_docker, "timeout": timeout or DEFAULT_TIMEOUT}
    executor = executor_from_legacy_config("execute_code", config)

    async def run() -> tuple[int, str, str | None]:
        try:
            result = await executor.a_execute_code_blocks([CodeBlock(code, lang or "python")])
        finally:
            await executor.stop()
        return result.exit_code, result.output, getattr(executor, "image", None)

    return run_sync(run())
