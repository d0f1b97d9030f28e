"""Code execution for agents: code blocks from markdown, executors, results with files."""

from .base import CodeBlock, CodeExecutor, CodeFile, CodeResult, extract_code_blocks, infer_language
from .docker import DockerCommandLineCodeExecutor
from .limits import FileCaps, ResourceLimits
from .local import LocalCommandLineCodeExecutor

__all__ = [
    "CodeBlock",
    "CodeExecutor",
    "CodeFile",
    "CodeResult",
    "DockerCommandLineCodeExecutor",
    "FileCaps",
    "LocalCommandLineCodeExecutor",
    "ResourceLimits",
    "extract_code_blocks",
    "infer_language",
]
