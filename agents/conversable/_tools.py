"""Tools: functions an agent offers to its model (``register_for_llm``) or executes (``register_for_execution``)."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ConfigurationError
from ..tools import Tool
from ._base import AgentCore

__all__ = ["ToolsMixin", "register_function"]

_declared: weakref.WeakKeyDictionary[Callable[..., Any], tuple[str, str]] = weakref.WeakKeyDictionary()
"""The tool name and description the latest ``register_for_llm`` gave each function."""


class ToolsMixin(AgentCore):
    """The tools an agent offers to its model and the functions it executes."""

    @property
    def function_map(self) -> dict[str, Callable[..., Any]]:
        """Tool name to function, for the tools this agent executes."""
        return {name: tool.func for name, tool in self._tools.items()}

    def can_execute_function(self, name: str | list[str]) -> bool:
        names = [name] if isinstance(name, str) else name
        return all(n in self._tools for n in names)

    def register_function(self, function_map: Mapping[str, Callable[..., Any] | None]) -> None:
        """Add (or, with None, remove) functions this agent executes when the model calls them."""
        for name, func in function_map.items():
            if func is None:
                self._tools.pop(name, None)
            else:
                self._tools[name] = Tool.from_function(func, name=name, description="", require_schema=False)

    def register_for_llm(
        self, *, name: str | None = None, description: str | None = None, api_style: str = "tool"
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A decorator that offers a function to this agent's model as a tool.

        Stacked over another ``register_for_llm``, a name or description left out here is the
        one given below (AutoGen's rule); what is given here wins.

        Raises:
            ConfigurationError: the agent has no llm_config, or the signature cannot be described.
        """
        if api_style != "tool":
            raise ConfigurationError("only api_style='tool' is supported: the function-call API is retired")

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            # Stacked decorators (AutoGen's way to offer one function to several models): what
            # this one leaves out, it takes from the one below it.
            below_name, below_description = _declared.get(func, (None, None))
            tool = Tool.from_function(
                func,
                name=name or below_name,
                description=description if description is not None else below_description,
            )
            self._add_tool_schema(tool)
            _declared[func] = (tool.name, tool.description)
            return func

        return decorator

    def register_for_execution(self, name: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A decorator that makes this agent execute a function when the model calls it.

        Without ``name``, the tool name is the one a ``register_for_llm`` below it gave.

        Raises:
            ConfigurationError: the tool name is not accepted by the model API.
        """

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            declared_name = _declared.get(func, (None, None))[0]
            tool = Tool.from_function(func, name=name or declared_name, description="", require_schema=False)
            self._tools[tool.name] = tool
            return func

        return decorator

    def _add_tool_schema(self, tool: Tool) -> None:
        if not self.llm_config:
            raise ConfigurationError(
                f"register_for_llm: agent {self.name!r} has llm_config=False, so there is no model to offer "
                f"{tool.name!r} to; register it on the agent whose model calls it"
            )
        self.update_tool_signature(tool.schema(), is_remove=False)

    def update_tool_signature(self, tool_sig: str | dict[str, Any], is_remove: bool) -> None:
        """Add or replace a tool schema offered to the model, or remove one by name.

        Raises:
            ConfigurationError: the agent has no llm_config, or a name was given to add.
        """
        if not self.llm_config:
            raise ConfigurationError(f"agent {self.name!r} has llm_config=False: it offers no tools")
        name = tool_sig if isinstance(tool_sig, str) else tool_sig["function"]["name"]
        tools = [t for t in self.llm_config.get("tools", []) if t["function"]["name"] != name]
        if not is_remove:
            if isinstance(tool_sig, str):
                raise ConfigurationError("to add a tool, pass its schema, not its name")
            tools.append(tool_sig)
        if tools:
            self.llm_config["tools"] = tools
        else:
            self.llm_config.pop("tools", None)


def register_function(
    f: Callable[..., Any],
    *,
    caller: ToolsMixin,
    executor: ToolsMixin,
    name: str | None = None,
    description: str,
) -> None:
    """Offer ``f`` to ``caller``'s model as a tool, and let ``executor`` run it.

    Raises:
        ConfigurationError: ``caller`` has no model, or ``f``'s signature cannot be described.
    """
    caller.register_for_llm(name=name, description=description)(f)
    executor.register_for_execution(name=name)(f)
