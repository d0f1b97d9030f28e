"""AutoGen's ``CodeExecutorFactory``: the executor a ``code_execution_config`` names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConfigurationError
from .base import CodeExecutor
from .docker import DockerCommandLineCodeExecutor
from .local import LocalCommandLineCodeExecutor

__all__ = ["CodeExecutorFactory"]

_NAMES = ("commandline-local", "commandline-docker")


class CodeExecutorFactory:
    """Builds executors from configs such as ``{"executor": "commandline-local", "commandline-local": {...}}``."""

    @staticmethod
    def create(code_execution_config: Mapping[str, Any]) -> CodeExecutor:
        """The executor given in ``code_execution_config["executor"]``, built when it is a name.

        ``"commandline-local"`` and ``"commandline-docker"`` take their keyword arguments from the
        config's entry of the same name.

        Raises:
            ConfigurationError: the executor is neither an executor nor one of those names.
        """
        executor = code_execution_config.get("executor")
        if isinstance(executor, CodeExecutor):
            return executor
        if executor == "commandline-local":
            return LocalCommandLineCodeExecutor(**code_execution_config.get("commandline-local", {}))
        if executor == "commandline-docker":
            return DockerCommandLineCodeExecutor(**code_execution_config.get("commandline-docker", {}))
        raise ConfigurationError(
            f"unknown code executor {executor!r}: give an executor object or one of {', '.join(_NAMES)}"
        )
