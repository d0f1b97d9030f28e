"""ConversableAgent: AutoGen's agent that sends, receives and generates replies.

An agent keeps one history per peer. Its reply is the first final answer of its reply
functions (see :mod:`agents.conversable._registry`). The class is assembled from its parts:

- :mod:`._base`: identity, the model call, human input, code approval;
- :mod:`._hooks` and :mod:`._registry`: hooks and reply functions;
- :mod:`._tools`: tools offered to the model and functions executed;
- :mod:`._messaging`: send and receive; :mod:`._chats`: chats it starts;
- :mod:`._state`: histories, counters, and saving and restoring them.

The core is async; ``send``, ``receive``, ``generate_reply``, ``initiate_chat`` and the other
sync methods are thin edges over their ``a_`` forms (:func:`agents._sync.sync_edge`).
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any, Literal, cast

from .. import runtime_logging
from ..agent import Agent
from ..coding.base import CodeExecutor
from ..coding.legacy import executor_from_legacy_config
from ..coding.local import LocalCommandLineCodeExecutor
from ..errors import ConfigurationError
from ..human_input import ConsoleInput, HumanInputSource
from ..llm.base import StreamHandler
from ..llm.client import LLMClient
from ..messages import Message, MessageLike, WireCache, content_str
from ._base import AgentState, HumanInputMode, as_message, check_agent_name, default_is_termination_msg
from ._chats import ChatsMixin
from ._hooks import HOOKS
from ._registry import BUILTIN_REPLIES
from ._state import system_content
from ._tools import ToolsMixin

__all__ = ["ConversableAgent"]


class ConversableAgent(ChatsMixin, ToolsMixin):
    """An agent that can converse: with a model, tools, code execution and a human.

    Args:
        name: the agent's name; the model API's rules apply (no spaces or ``<|\\/>``, 64 chars).
        system_message: the system message of its model calls.
        is_termination_msg: takes a received message, says whether it ends the chat
            (default: its content is exactly "TERMINATE").
        max_consecutive_auto_reply: replies to one sender without human input before the
            agent stops or asks (default 100).
        human_input_mode: "ALWAYS", "TERMINATE" or "NEVER" (see
            :func:`agents.conversable.replies.a_check_termination_and_human_reply`).
        function_map: tool name to function, for executing tool calls.
        code_execution_config: False, or ``{"executor": CodeExecutor, "last_n_messages": ...,
            "approval": async policy}``, or AutoGen's legacy ``{"work_dir", "use_docker", "timeout"}``.
        llm_config: False for no model, or the dict described in :mod:`agents.llm.config`.
        default_auto_reply: the reply when no reply function gives one.
        description: how others see this agent (group-chat selection); default: the system message.
        chat_messages: histories to start from, per peer.
        silent: when set, overrides the chats' ``silent`` for this agent's printing.
        human_input_source: where human input comes from (default: the console).
        stream_handler: receives the text of model replies as it streams.

    Raises:
        ConfigurationError: a bad name, mode, llm_config or code_execution_config.
    """

    DEFAULT_CONFIG: Literal[False] = False
    MAX_CONSECUTIVE_AUTO_REPLY = 100

    def __init__(
        self,
        name: str,
        system_message: str | list[Any] | None = "You are a helpful AI Assistant.",
        is_termination_msg: Callable[[Any], bool] | None = None,
        max_consecutive_auto_reply: int | None = None,
        human_input_mode: HumanInputMode = "TERMINATE",
        function_map: Mapping[str, Callable[..., Any]] | None = None,
        code_execution_config: dict[str, Any] | Literal[False] = False,
        llm_config: Mapping[str, Any] | Literal[False] | None = None,
        default_auto_reply: str | dict[str, Any] = "",
        description: str | None = None,
        chat_messages: Mapping[Agent, list[MessageLike]] | None = None,
        silent: bool | None = None,
        *,
        human_input_source: HumanInputSource | None = None,
        stream_handler: StreamHandler | None = None,
    ) -> None:
        check_agent_name(name)
        if human_input_mode not in ("ALWAYS", "TERMINATE", "NEVER"):
            raise ConfigurationError(
                f"agent {name!r}: human_input_mode must be 'ALWAYS', 'TERMINATE' or 'NEVER', not {human_input_mode!r}"
            )
        self._name = name
        self._oai_system_message = [Message(role="system", content=system_content(system_message))]
        self._description = description if description is not None else content_str(self.system_message)
        self._is_termination_msg = is_termination_msg or default_is_termination_msg
        self._max_consecutive_auto_reply = (
            max_consecutive_auto_reply if max_consecutive_auto_reply is not None else self.MAX_CONSECUTIVE_AUTO_REPLY
        )
        self._max_consecutive_auto_reply_dict = defaultdict(self.max_consecutive_auto_reply)
        self.human_input_mode = human_input_mode
        self.human_input_source = human_input_source or ConsoleInput()
        self.stream_handler = stream_handler
        self.silent = silent
        self._default_auto_reply = default_auto_reply
        self._state = AgentState()
        self._human_input = []
        self._tools = {}
        self.register_function(dict(function_map or {}))
        self.llm_config = self._init_llm_config(llm_config)
        self.client = LLMClient(self.llm_config) if self.llm_config else None
        self._code_execution_config = self._init_code_execution(code_execution_config)
        self._last_code_result = None
        self._stop_reason = None
        self._wire = WireCache()
        self._reply_func_list = []
        self.hook_lists = {hook: [] for hook in HOOKS}
        for builtin in BUILTIN_REPLIES:
            self.register_reply([Agent, None], builtin)
        for peer, history in (chat_messages or {}).items():
            self._state.messages[peer] = [as_message(m) for m in history]
        if runtime_logging.logging_enabled():
            init = {"name": name, "system_message": system_message, "human_input_mode": human_input_mode}
            runtime_logging.log_new_agent(self, init)

    # -- configuration -----------------------------------------------------------------

    def _init_llm_config(
        self, llm_config: Mapping[str, Any] | Literal[False] | None
    ) -> dict[str, Any] | Literal[False]:
        if llm_config is None:
            llm_config = self.DEFAULT_CONFIG
        if llm_config is False:
            return False
        if not isinstance(llm_config, Mapping):
            raise ConfigurationError(f"agent {self.name!r}: llm_config must be a dict, False or None")
        config = copy.deepcopy(dict(llm_config))
        if not config.get("tools"):
            config.pop("tools", None)
        return config

    def _init_code_execution(self, config: dict[str, Any] | Literal[False] | None) -> dict[str, Any] | Literal[False]:
        self._code_executor = None
        self._code_approval = None
        self._last_n_messages = "auto"
        if config is False or config is None:
            return False
        if not isinstance(config, dict):
            raise ConfigurationError(f"agent {self.name!r}: code_execution_config must be a dict or False")
        last_n = config.get("last_n_messages", "auto")
        if last_n != "auto" and not (isinstance(last_n, int) and not isinstance(last_n, bool) and last_n >= 0):
            raise ConfigurationError(
                f"agent {self.name!r}: code_execution_config['last_n_messages'] must be a non-negative int or 'auto'"
            )
        self._last_n_messages = last_n
        self._code_approval = config.get("approval")
        executor: Any = config.get("executor")
        if executor is None:
            executor = executor_from_legacy_config(self.name, config)
        elif executor == "commandline-local":
            executor = LocalCommandLineCodeExecutor(**config.get("commandline-local", {}))
        elif not hasattr(executor, "execute_code_blocks"):
            raise ConfigurationError(
                f"agent {self.name!r}: code_execution_config['executor'] must be a CodeExecutor "
                "(e.g. LocalCommandLineCodeExecutor()) or 'commandline-local'"
            )
        self._code_executor = cast(CodeExecutor, executor)
        return config

    @property
    def use_docker(self) -> bool:
        return bool(self._code_execution_config and self._code_execution_config.get("use_docker"))

    def register_model_client(self, model_client_cls: type[Any], **kwargs: Any) -> None:
        """Use ``model_client_cls(entry, **kwargs)`` for config entries naming it in ``model_client_cls``.

        Raises:
            ConfigurationError: the agent has no llm_config, or no entry names the class.
        """
        if self.client is None:
            raise ConfigurationError(f"agent {self.name!r} has llm_config=False: there is no model to register")
        self.client.register_model_client(model_client_cls, **kwargs)

    def reset(self) -> None:
        """Forget histories and counters, and restore every reply function's config."""
        self.clear_history()
        self.reset_consecutive_auto_reply_counter()
        self.stop_reply_at_receive()
        if self.client is not None:
            self.client.clear_usage_summary()
        for entry in self._reply_func_list:
            if entry.reset_config is not None:
                entry.reset_config(entry.config)
            else:
                entry.config = copy.copy(entry.init_config)
