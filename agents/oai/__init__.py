"""AutoGen's ``autogen.oai`` names, for code that imports them from there; see :mod:`agents.llm`."""

from ..cache import Cache
from ..llm import ModelClient, OpenAIWrapper
from ..llm.config_list import config_list_from_dotenv, config_list_from_json, filter_config

__all__ = [
    "Cache",
    "ModelClient",
    "OpenAIWrapper",
    "config_list_from_dotenv",
    "config_list_from_json",
    "filter_config",
]
