"""The agents: ConversableAgent and its two classic specializations.

Imports the run engine (:mod:`agents.chat_run`, :mod:`agents.chat`) and the layers below it
(messages, tools, code execution, the LLM client); the engine never imports this package.
"""

from ._base import HumanInputMode, ReplyFunction, Trigger, check_agent_name
from ._tools import register_function
from .agent import ConversableAgent
from .assistant import AssistantAgent
from .user_proxy import UserProxyAgent

__all__ = [
    "AssistantAgent",
    "ConversableAgent",
    "HumanInputMode",
    "ReplyFunction",
    "Trigger",
    "UserProxyAgent",
    "check_agent_name",
    "register_function",
]
