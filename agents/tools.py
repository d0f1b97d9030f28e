"""Python functions as tools the model can call.

A function with type hints becomes a tool schema: ``Annotated[int, "what it is"]`` gives a
parameter its description, defaults make parameters optional, and ``Literal``, ``Enum``,
dataclasses and pydantic models work as parameter types (pydantic writes the JSON schema
and validates the model's arguments). Sync tools run in a worker thread, async tools on the
loop; several tool calls in one message run concurrently. While :mod:`agents.runtime_logging`
is on, each call that reaches its function is recorded (``log_function_use``) with the agent
that ran it, the arguments the model sent and what the function returned (or the error text).

Nothing a tool does can crash the chat: an unknown tool, arguments that are not JSON or do
not fit the signature, and an exception in the tool all come back to the model as text
starting with ``Error:``. A signature that cannot be described fails at registration, with
an error that names the function and the parameter.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import pydantic
import pydantic_core

from . import runtime_logging
from .errors import ConfigurationError
from .messages import ToolCall, ToolResponse

__all__ = ["Tool", "execute_tool_calls", "serialize_result"]

_log = logging.getLogger(__name__)

_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Tool:
    """A function with the JSON schema the model sees and a validator for its arguments.

    ``arguments_model`` is None for execution-only functions without full type hints: they
    are called with the JSON arguments as they come, as AutoGen does.
    """

    name: str
    description: str
    func: Callable[..., Any]
    parameters: Mapping[str, Any]
    arguments_model: type[pydantic.BaseModel] | None

    @classmethod
    def from_function(
        cls,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        require_schema: bool = True,
    ) -> Tool:
        """Describe ``func`` as a tool.

        Args:
            func: the function; sync or async.
            name: the tool name (default: the function's name).
            description: what it does (default: the first paragraph of its docstring).
            require_schema: fail when the signature cannot be described (for tools offered
                to a model); when False, such a function is still callable with raw arguments.

        Raises:
            ConfigurationError: naming the function and, when it is one, the parameter.
        """
        tool_name = str(name or getattr(func, "__name__", ""))
        if not _TOOL_NAME.match(tool_name):
            raise ConfigurationError(
                f"tool name {tool_name!r} is not accepted by the model API: use 1-64 letters, digits, '_' or '-'"
            )
        doc = inspect.getdoc(func) or ""
        text = description if description is not None else doc.split("\n\n")[0].strip()
        if require_schema and not text:
            raise ConfigurationError(
                f"tool {tool_name!r} has no description: pass description=... or give the function a docstring"
            )
        try:
            model = _arguments_model(tool_name, func)
        except ConfigurationError:
            if require_schema:
                raise
            return cls(tool_name, text, func, {"type": "object", "properties": {}}, None)
        return cls(tool_name, text, func, _clean_schema(model.model_json_schema()), model)

    def schema(self) -> dict[str, Any]:
        """The entry for ``tools`` in a chat-completion request."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": dict(self.parameters),
            },
        }

    async def call(self, arguments: str, *, agent: Any = None) -> str:
        """Run the tool on the model's JSON arguments; every failure becomes ``Error: ...`` text.

        ``agent`` is the agent running the call: the runtime log names it as the call's source.
        """
        try:
            raw = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as exc:
            return f"Error: the arguments of {self.name} are not valid JSON ({exc}). Send a JSON object."
        if not isinstance(raw, dict):
            return f"Error: the arguments of {self.name} must be a JSON object, got {type(raw).__name__}."
        if self.arguments_model is not None:
            try:
                parsed = self.arguments_model.model_validate(raw)
            except pydantic.ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}" for err in exc.errors()
                )
                return f"Error: invalid arguments for {self.name}: {problems}"
            kwargs = {field: getattr(parsed, field) for field in type(parsed).model_fields}
        else:
            kwargs = raw
        try:
            result = await self._invoke(kwargs)
        except Exception as exc:
            _log.info("tool %s raised %r", self.name, exc)
            result = text = f"Error: {self.name} raised {type(exc).__name__}: {exc}"
        else:
            text = serialize_result(result)
        if runtime_logging.logging_enabled():
            runtime_logging.log_function_use(agent, self.func, raw, result)
        return text

    async def _invoke(self, kwargs: dict[str, Any]) -> Any:
        if inspect.iscoroutinefunction(self.func):
            return await self.func(**kwargs)
        result = await asyncio.to_thread(self.func, **kwargs)
        return await result if inspect.isawaitable(result) else result


def serialize_result(result: Any) -> str:
    """A tool's return value as text for the model: strings as they are, the rest as JSON."""
    if isinstance(result, str):
        return result
    if isinstance(result, pydantic.BaseModel):
        return result.model_dump_json()
    return pydantic_core.to_json(result, fallback=str).decode()


async def execute_tool_calls(
    calls: tuple[ToolCall, ...], tools: Mapping[str, Tool], *, agent: Any = None
) -> tuple[ToolResponse, ...]:
    """Run the calls concurrently; an unknown tool is answered with an error, not raised.

    ``agent``: the agent running them (see :meth:`Tool.call`).
    """

    async def one(call: ToolCall) -> ToolResponse:
        tool = tools.get(call.name)
        if tool is None:
            known = ", ".join(sorted(tools)) or "none"
            return ToolResponse(call.id, f"Error: there is no tool named {call.name!r} (tools here: {known}).")
        return ToolResponse(call.id, await tool.call(call.arguments, agent=agent))

    return tuple(await asyncio.gather(*(one(c) for c in calls)))


def _arguments_model(tool_name: str, func: Callable[..., Any]) -> type[pydantic.BaseModel]:
    where = f"tool {tool_name!r} ({getattr(func, '__qualname__', func)!r})"
    try:
        signature = inspect.signature(func)
        hints = typing.get_type_hints(func, include_extras=True)
    except (TypeError, ValueError, NameError) as exc:
        raise ConfigurationError(f"{where}: cannot read its signature: {exc}") from exc
    fields: dict[str, Any] = {}
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ConfigurationError(
                f"{where}: parameter {param.name!r} is *args/**kwargs, which a model cannot fill; name each parameter"
            )
        if param.kind is param.POSITIONAL_ONLY:
            raise ConfigurationError(
                f"{where}: parameter {param.name!r} is positional-only; make it a normal parameter"
            )
        if param.name not in hints:
            raise ConfigurationError(
                f"{where}: parameter {param.name!r} has no type hint; annotate it, e.g. `{param.name}: str`"
            )
        if param.name.startswith("_"):
            raise ConfigurationError(f"{where}: parameter {param.name!r} starts with '_'; rename it")
        annotation, field_info = _split_annotation(hints[param.name], param.default)
        try:
            pydantic.TypeAdapter(annotation).json_schema()
        except (pydantic.PydanticSchemaGenerationError, pydantic.errors.PydanticInvalidForJsonSchema) as exc:
            raise ConfigurationError(
                f"{where}: parameter {param.name!r} has a type that cannot be described as JSON ({annotation!r}); "
                "use JSON-like types, dataclasses or pydantic models"
            ) from exc
        fields[param.name] = (annotation, field_info)
    return pydantic.create_model(f"{tool_name}_arguments", **fields)


def _split_annotation(hint: Any, default: Any) -> tuple[Any, Any]:
    description = None
    if typing.get_origin(hint) is Annotated:
        base, *metadata = typing.get_args(hint)
        texts = [m for m in metadata if isinstance(m, str)]
        others = [m for m in metadata if not isinstance(m, str)]
        description = texts[0] if texts else None
        hint = Annotated[(base, *others)] if others else base
    field_default = ... if default is inspect.Parameter.empty else default
    return hint, pydantic.Field(field_default, description=description)


def _clean_schema(node: Any, *, names: bool = False) -> Any:
    """Drop pydantic's generated ``title`` keys; property and definition names stay."""
    if isinstance(node, dict):
        return {
            key: _clean_schema(value, names=key in ("properties", "$defs") and not names)
            for key, value in node.items()
            if names or not (key == "title" and isinstance(value, str))
        }
    if isinstance(node, list):
        return [_clean_schema(v) for v in node]
    return node
