"""Code execution for agents: code blocks from markdown, executors, results with files."""

from .base import (
    AsyncCodeExecutor,
    CodeBlock,
    CodeExecutor,
    CodeExtractor,
    CodeFile,
    CodeResult,
    extract_code_blocks,
    infer_language,
)
from .docker import DockerCommandLineCodeExecutor
from .executor import CodeExecutorBase
from .factory import CodeExecutorFactory
from .func_with_reqs import Alias, FunctionWithRequirements, ImportFromModule, with_requirements
from .limits import FileCaps, ResourceLimits
from .local import LocalCommandLineCodeExecutor
from .markdown import MarkdownCodeExtractor

CommandLineCodeResult = CodeResult
"""AutoGen's name for the command-line executors' result (``code_file`` included)."""

__all__ = [
    "Alias",
    "AsyncCodeExecutor",
    "CodeBlock",
    "CodeExecutor",
    "CodeExecutorBase",
    "CodeExecutorFactory",
    "CodeExtractor",
    "CodeFile",
    "CodeResult",
    "CommandLineCodeResult",
    "DockerCommandLineCodeExecutor",
    "FileCaps",
    "FunctionWithRequirements",
    "ImportFromModule",
    "LocalCommandLineCodeExecutor",
    "MarkdownCodeExtractor",
    "ResourceLimits",
    "extract_code_blocks",
    "infer_language",
    "with_requirements",
]
