"""AutoGen's ``autogen.oai.openai_utils`` path for the config-list helpers."""

from ..llm.config_list import config_list_from_dotenv, config_list_from_json, filter_config

__all__ = ["config_list_from_dotenv", "config_list_from_json", "filter_config"]
