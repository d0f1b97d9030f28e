"""AutoGen's config-list helpers: read ``config_list`` from JSON or a ``.env`` file, and filter it.

::

    config_list = config_list_from_json("OAI_CONFIG_LIST", filter_dict={"model": ["gpt-4o"]})
    llm_config = {"config_list": config_list}

The entries are plain dicts, checked later when an agent builds its client from them.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from dotenv import find_dotenv, load_dotenv

from ..errors import ConfigurationError

__all__ = ["config_list_from_dotenv", "config_list_from_json", "filter_config"]

_log = logging.getLogger(__name__)

# AutoGen's models when no map is given: both read OPENAI_API_KEY.
_DEFAULT_KEY_MAP: Mapping[str, str] = {"gpt-4": "OPENAI_API_KEY", "gpt-3.5-turbo": "OPENAI_API_KEY"}


def filter_config(
    config_list: list[dict[str, Any]],
    filter_dict: Mapping[str, Iterable[Any]] | None,
    exclude: bool = False,
) -> list[dict[str, Any]]:
    """The entries whose every filtered key holds one of the accepted values.

    A list-valued entry key (``tags``) matches when it shares a value with the accepted ones;
    ``None`` among the accepted values matches an entry that lacks the key.

    Args:
        config_list: the entries.
        filter_dict: key -> accepted values; None or empty keeps every entry.
        exclude: keep the entries that do *not* match instead.
    """
    if not filter_dict:
        return list(config_list)
    wanted = {key: list(values) for key, values in filter_dict.items()}

    def matches(entry: Mapping[str, Any]) -> bool:
        return all(_accepts(entry.get(key), values) for key, values in wanted.items())

    return [entry for entry in config_list if matches(entry) != exclude]


def _accepts(value: Any, accepted: list[Any]) -> bool:
    if isinstance(value, list):
        return any(v in accepted for v in value)
    return value in accepted


def config_list_from_json(
    env_or_file: str,
    file_location: str | None = "",
    filter_dict: Mapping[str, Iterable[Any]] | None = None,
) -> list[dict[str, Any]]:
    """Read a config list from an environment variable or a JSON file, then filter it.

    The environment variable ``env_or_file``, when set, holds either the path of a JSON file or
    the JSON itself; otherwise ``env_or_file`` names a file in ``file_location``. As in AutoGen,
    a missing file gives an empty list (and a warning in the log).

    Raises:
        ConfigurationError: the JSON cannot be parsed or is not a list of objects.
    """
    source = os.environ.get(env_or_file)
    if source:
        if os.path.exists(source):
            where, text = f"the file {source} (from ${env_or_file})", Path(source).read_text()
        else:
            where, text = f"${env_or_file}", source
    else:
        path = Path(file_location or "") / env_or_file
        if not path.is_file():
            _log.warning("no config list: neither $%s nor the file %s exists", env_or_file, path)
            return []
        where, text = f"the file {path}", path.read_text()
    try:
        config_list = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{where} is not valid JSON ({exc}); it must hold a list of config objects") from exc
    if not isinstance(config_list, list) or not all(isinstance(e, dict) for e in config_list):
        raise ConfigurationError(f'{where} must hold a JSON list of objects like [{{"model": "gpt-4o"}}]')
    return filter_config(config_list, filter_dict)


def config_list_from_dotenv(
    dotenv_file_path: str | None = None,
    model_api_key_map: Mapping[str, Any] | None = None,
    filter_dict: Mapping[str, Iterable[Any]] | None = None,
) -> list[dict[str, Any]]:
    """Build a config list from API keys in a ``.env`` file (and the environment).

    Args:
        dotenv_file_path: the ``.env`` file; None looks for one from the working directory up.
        model_api_key_map: model -> the variable holding its key, or model -> a dict with
            ``api_key_env_var`` and other entry keys (``base_url``, ``api_type``, ...).
            Default: ``gpt-4`` and ``gpt-3.5-turbo`` with ``OPENAI_API_KEY``.
        filter_dict: as in :func:`filter_config`.

    Models whose key variable is not set are left out (with a warning in the log).

    Raises:
        ConfigurationError: a map value is neither a variable name nor a dict with ``api_key_env_var``.
    """
    if dotenv_file_path is not None and not Path(dotenv_file_path).is_file():
        _log.warning("the .env file %s does not exist; reading keys from the environment only", dotenv_file_path)
    else:
        load_dotenv(dotenv_file_path or find_dotenv(usecwd=True))
    config_list = []
    for model, spec in (model_api_key_map or _DEFAULT_KEY_MAP).items():
        if isinstance(spec, str):
            key_var, extra = spec, {}
        elif isinstance(spec, Mapping) and isinstance(spec.get("api_key_env_var"), str):
            key_var = spec["api_key_env_var"]
            extra = {k: v for k, v in spec.items() if k != "api_key_env_var"}
        else:
            raise ConfigurationError(
                f"model_api_key_map[{model!r}] must be the name of the variable holding the API key, "
                "or a dict with 'api_key_env_var' (and entry keys such as 'base_url')"
            )
        api_key = os.environ.get(key_var)
        if not api_key:
            _log.warning("no API key for %s: $%s is not set; leaving it out", model, key_var)
            continue
        config_list.append({"api_key": api_key, **extra, "model": model})
    return filter_config(config_list, filter_dict)
