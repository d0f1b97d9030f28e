"""AutoGen's legacy ``code_execution_config``: ``{"work_dir", "use_docker", "timeout"}``.

As in AutoGen, ``use_docker`` defaults to the ``AUTOGEN_USE_DOCKER`` environment variable
and otherwise to True: code runs in Docker unless told not to, and an agent with such a config
cannot be built without a Docker engine that answers (the error says how to run locally).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..errors import CodeExecutionError, ConfigurationError
from .base import AsyncCodeExecutor
from .local import LocalCommandLineCodeExecutor

__all__ = ["decide_use_docker", "executor_from_legacy_config"]

_TRUE = {"1", "true", "yes", "t"}
_FALSE = {"0", "false", "no", "f"}


def decide_use_docker(use_docker: bool | str | None) -> bool | str:
    """``use_docker`` as configured, else from ``AUTOGEN_USE_DOCKER``, else True.

    A string names the Docker image to use.

    Raises:
        ConfigurationError: ``AUTOGEN_USE_DOCKER`` holds something that is not a yes or a no.
    """
    if use_docker is not None:
        return use_docker
    value = os.environ.get("AUTOGEN_USE_DOCKER", "true").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(f"AUTOGEN_USE_DOCKER={value!r} is neither yes nor no; set it to 'true' or 'false'")


def executor_from_legacy_config(agent_name: str, config: Mapping[str, Any]) -> AsyncCodeExecutor:
    """The executor that a legacy config asks for."""
    timeout = config.get("timeout", 60)
    work_dir = config.get("work_dir")
    use_docker = decide_use_docker(config.get("use_docker"))
    if use_docker is False:
        return LocalCommandLineCodeExecutor(timeout=timeout, work_dir=work_dir)
    from .docker import DockerCommandLineCodeExecutor, docker_client

    try:
        docker_client().close()
    except CodeExecutionError as exc:
        raise ConfigurationError(
            f"agent {agent_name!r}: code execution is set to run in Docker (AutoGen's default), but {exc}. "
            "To run code on this machine instead, set 'use_docker': False in code_execution_config "
            "(or AUTOGEN_USE_DOCKER=false)"
        ) from exc
    image = use_docker if isinstance(use_docker, str) else None
    return DockerCommandLineCodeExecutor(image=image, timeout=timeout, work_dir=work_dir)
