"""threadcrew's multi-agent framework, with the classic AutoGen API.

Owns: messages, agents (ConversableAgent, AssistantAgent, UserProxyAgent), two-agent,
sequential and nested chats, tools, code execution, human input (including the durable
suspension that chat threads need), and the model client over the official ``openai``
package. Imports none of adapters/, storage/ or bot/, and no Slack, Discord or SQLAlchemy
code: a whole conversation runs in a notebook with nothing but a model endpoint.

Its parts, each importing only those below it (import-linter checks the layers and that no
module cycle exists at any depth):

- ``groupchat/``: GroupChat, GroupChatManager, GroupChatRun;
- ``conversable/``: ConversableAgent (split along its jobs), AssistantAgent, UserProxyAgent;
- the run engine: ``chat_run`` (ChatRun), ``chat_queue`` (queues of chats, nested chats),
  ``_run`` (DurableRun), ``chat`` (results, summaries, carryover); it knows agents only
  through the protocols of ``agent`` (Agent, Conversable);
- the building blocks: ``tools``, ``coding/``, ``llm/``, ``human_input``, ``termination``,
  ``history``, ``messages``, ``errors``, and ``_sync`` (the one sync edge).

    from agents import AssistantAgent, UserProxyAgent
    assistant = AssistantAgent("assistant", llm_config={"config_list": [{"model": "gpt-4o-mini"}]})
    user = UserProxyAgent("user", code_execution_config={"use_docker": False})
    result = user.initiate_chat(assistant, message="Plot y = x**2 and save it as plot.png")
"""

from . import code_utils, runtime_logging
from ._run import HumanInputWait
from ._sync import aclose_loop_resources
from .agent import Agent, LLMAgent
from .cache import Cache
from .capabilities import MessageHistoryLimiter, MessageTokenLimiter, TransformMessages
from .chat import ChatResult
from .chat_queue import a_initiate_chats, initiate_chats
from .chat_run import ChatRun
from .coding import (
    AsyncCodeExecutor,
    CodeBlock,
    CodeExecutor,
    CodeExecutorFactory,
    CodeExtractor,
    CodeFile,
    CodeResult,
    DockerCommandLineCodeExecutor,
    FunctionWithRequirements,
    LocalCommandLineCodeExecutor,
    MarkdownCodeExtractor,
    extract_code_blocks,
    with_requirements,
)
from .conversable import AssistantAgent, ConversableAgent, UserProxyAgent, check_agent_name, register_function
from .errors import (
    AgentError,
    AgentNameConflict,
    ChatSuspended,
    CodeExecutionError,
    ConfigurationError,
    HumanInputError,
    HumanInputRequired,
    InvalidCarryOverTypeError,
    InvalidMessageError,
    ModelError,
    SenderRequiredError,
    UndefinedNextAgent,
)
from .groupchat import GroupChat, GroupChatManager, GroupChatRun, NoEligibleSpeaker
from .history import HistoryLimiter
from .human_input import ConsoleInput, DeferredInput, HumanInputSource, HumanReply, ScriptedInput
from .llm import (
    DiskCache,
    FunctionModelClient,
    InMemoryCache,
    LLMClient,
    ModelClient,
    ModelRequest,
    ModelResponse,
    OpenAIWrapper,
    ResponseCache,
    Usage,
    config_list_from_dotenv,
    config_list_from_json,
    filter_config,
    gather_usage_summary,
)
from .messages import ImagePart, Message, TextPart, ToolCall, ToolResponse, content_str
from .outcome import Approval, StepMessage, StepOutcome, Stop, StopKind
from .termination import (
    ChatProgress,
    External,
    MaxMessages,
    TerminationCondition,
    TextMention,
    Timeout,
    TokenUsage,
)
from .tools import Tool

__all__ = [
    "Agent",
    "AgentError",
    "AgentNameConflict",
    "Approval",
    "AssistantAgent",
    "AsyncCodeExecutor",
    "Cache",
    "ChatProgress",
    "ChatResult",
    "ChatRun",
    "ChatSuspended",
    "CodeBlock",
    "CodeExecutionError",
    "CodeExecutor",
    "CodeExecutorFactory",
    "CodeExtractor",
    "CodeFile",
    "CodeResult",
    "ConfigurationError",
    "ConsoleInput",
    "ConversableAgent",
    "DeferredInput",
    "DiskCache",
    "DockerCommandLineCodeExecutor",
    "External",
    "FunctionModelClient",
    "FunctionWithRequirements",
    "GroupChat",
    "GroupChatManager",
    "GroupChatRun",
    "HistoryLimiter",
    "HumanInputError",
    "HumanInputRequired",
    "HumanInputSource",
    "HumanInputWait",
    "HumanReply",
    "ImagePart",
    "InMemoryCache",
    "InvalidCarryOverTypeError",
    "InvalidMessageError",
    "LLMAgent",
    "LLMClient",
    "LocalCommandLineCodeExecutor",
    "MarkdownCodeExtractor",
    "MaxMessages",
    "Message",
    "MessageHistoryLimiter",
    "MessageTokenLimiter",
    "ModelClient",
    "ModelError",
    "ModelRequest",
    "ModelResponse",
    "NoEligibleSpeaker",
    "OpenAIWrapper",
    "ResponseCache",
    "ScriptedInput",
    "SenderRequiredError",
    "StepMessage",
    "StepOutcome",
    "Stop",
    "StopKind",
    "TerminationCondition",
    "TextMention",
    "TextPart",
    "Timeout",
    "TokenUsage",
    "Tool",
    "ToolCall",
    "ToolResponse",
    "TransformMessages",
    "UndefinedNextAgent",
    "Usage",
    "UserProxyAgent",
    "a_initiate_chats",
    "aclose_loop_resources",
    "check_agent_name",
    "code_utils",
    "config_list_from_dotenv",
    "config_list_from_json",
    "content_str",
    "extract_code_blocks",
    "filter_config",
    "gather_usage_summary",
    "initiate_chats",
    "register_function",
    "runtime_logging",
    "with_requirements",
]
