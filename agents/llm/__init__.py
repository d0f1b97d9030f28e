"""Model back-ends of the agent layer: the official ``openai`` client for any OpenAI-compatible
endpoint, config lists with fallback, retries, a response cache, and tokens and cost.

Imports nothing outside agents/ but ``openai`` and the standard library.
"""

from .base import ModelClient, ModelRequest, ModelResponse, StreamHandler
from .cache import DiskCache, InMemoryCache, ResponseCache
from .client import LLMClient, use_cache, use_seed_cache
from .config import LLMConfig, ModelConfig, parse_llm_config
from .config_list import config_list_from_dotenv, config_list_from_json, filter_config
from .function_client import FunctionModelClient
from .openai_client import OpenAIChatClient
from .pricing import cost_of
from .usage import CallObserver, Usage, collect_usage, gather_usage_summary, observe_calls

OpenAIWrapper = LLMClient
"""AutoGen's name for an agent's model client."""

__all__ = [
    "CallObserver",
    "DiskCache",
    "FunctionModelClient",
    "InMemoryCache",
    "LLMClient",
    "LLMConfig",
    "ModelClient",
    "ModelConfig",
    "ModelRequest",
    "ModelResponse",
    "OpenAIChatClient",
    "OpenAIWrapper",
    "ResponseCache",
    "StreamHandler",
    "Usage",
    "collect_usage",
    "config_list_from_dotenv",
    "config_list_from_json",
    "cost_of",
    "filter_config",
    "gather_usage_summary",
    "observe_calls",
    "parse_llm_config",
    "use_cache",
    "use_seed_cache",
]
