"""Functions that code blocks may import: AutoGen's ``with_requirements`` and ``functions=``.

::

    @with_requirements(python_packages=["pandas"], global_imports=["pandas"])
    def load(path: str) -> pandas.DataFrame:
        return pandas.read_csv(path)

    executor = LocalCommandLineCodeExecutor(functions=[load])   # code runs `from functions import load`

The executor writes the functions, with the imports they declare, into ``<functions_module>.py``
in its work dir. Packages are not installed for you (code runs without network): install them
where the code runs; the module's imports fail loudly if one is missing.
"""

from __future__ import annotations

import ast
import functools
import inspect
import string
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, ParamSpec, TypeVar

from ..errors import ConfigurationError

__all__ = [
    "FUNCTION_PROMPT_TEMPLATE",
    "Alias",
    "FunctionWithRequirements",
    "FunctionWithRequirementsStr",
    "ImportFromModule",
    "build_python_functions_file",
    "format_functions_for_prompt",
    "with_requirements",
    "write_functions_module",
]

T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True, slots=True)
class Alias:
    """``import name as alias`` (or, inside :class:`ImportFromModule`, ``name as alias``)."""

    name: str
    alias: str


@dataclass(frozen=True, slots=True)
class ImportFromModule:
    """``from module import a, b as c``."""

    module: str
    imports: Sequence[str | Alias]


Import = str | ImportFromModule | Alias


@dataclass
class FunctionWithRequirements(Generic[T, P]):
    """A function plus the packages and module-level imports its source needs; calls go to ``func``."""

    func: Callable[P, T]
    python_packages: list[str] = field(default_factory=list)
    global_imports: list[Import] = field(default_factory=list)

    @classmethod
    def from_callable(
        cls, func: Callable[P, T], python_packages: list[str] | None = None, global_imports: list[Import] | None = None
    ) -> FunctionWithRequirements[T, P]:
        return cls(func, list(python_packages or ()), list(global_imports or ()))

    @staticmethod
    def from_str(
        func: str, python_packages: list[str] | None = None, global_imports: list[Import] | None = None
    ) -> FunctionWithRequirementsStr:
        return FunctionWithRequirementsStr(func, list(python_packages or ()), list(global_imports or ()))

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.func(*args, **kwargs)


@dataclass
class FunctionWithRequirementsStr:
    """A function given as source text (one ``def``), with its requirements.

    Raises:
        ConfigurationError: the text does not compile or defines no function, or several.
    """

    func: str
    python_packages: list[str] = field(default_factory=list)
    global_imports: list[Import] = field(default_factory=list)
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.func = textwrap.dedent(self.func)
        try:
            tree = ast.parse(self.func)
        except SyntaxError as exc:
            raise ConfigurationError(f"the function source does not compile: {exc}") from exc
        names = [node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
        if len(names) != 1:
            raise ConfigurationError(f"the function source must define exactly one function; it defines {names}")
        self.name = names[0]


def with_requirements(
    python_packages: list[str] | None = None, global_imports: list[Import] | None = None
) -> Callable[[Callable[P, T]], FunctionWithRequirements[T, P]]:
    """Decorate a function with what it needs when code blocks import it from the functions module."""

    def wrap(func: Callable[P, T]) -> FunctionWithRequirements[T, P]:
        wrapped = FunctionWithRequirements.from_callable(func, python_packages, global_imports)
        functools.update_wrapper(wrapped, func)
        return wrapped

    return wrap


def _import_line(item: Import) -> str:
    if isinstance(item, str):
        return f"import {item}"
    if isinstance(item, Alias):
        return f"import {item.name} as {item.alias}"
    names = ", ".join(n if isinstance(n, str) else f"{n.name} as {n.alias}" for n in item.imports)
    return f"from {item.module} import {names}"


def _source(func: Any) -> str:
    if isinstance(func, FunctionWithRequirementsStr):
        return func.func
    target = func.func if isinstance(func, FunctionWithRequirements) else func
    if not callable(target) or getattr(target, "__name__", "<lambda>") == "<lambda>":
        raise ConfigurationError(f"{func!r} cannot go into the functions module: give a named function")
    try:
        lines = textwrap.dedent(inspect.getsource(target)).splitlines()
    except (OSError, TypeError) as exc:
        raise ConfigurationError(f"the source of {target.__name__} is not available: {exc}") from exc
    # Decorators (with_requirements among them) are not part of what the module defines.
    start = next(i for i, line in enumerate(lines) if line.startswith(("def ", "async def ")))
    return "\n".join(lines[start:])


def build_python_functions_file(funcs: Sequence[Any]) -> str:
    """The source of a module holding ``funcs`` and the imports they declare."""
    imports: list[str] = []
    for func in funcs:
        for item in getattr(func, "global_imports", ()):
            line = _import_line(item)
            if line not in imports:
                imports.append(line)
    body = "\n\n\n".join(_source(func) for func in funcs)
    return "\n".join(imports) + ("\n\n\n" if imports else "") + body + "\n"


def write_functions_module(work_dir: Path, funcs: Sequence[Any], module: str = "functions") -> Path | None:
    """Write ``<module>.py`` with ``funcs`` into ``work_dir``; None when there are no functions.

    Raises:
        ConfigurationError: ``module`` is not a valid module name, or a function has no source.
    """
    if not module.isidentifier():
        raise ConfigurationError(f"functions_module {module!r} must be a Python identifier, like 'functions'")
    if not funcs:
        return None
    path = work_dir / f"{module}.py"
    path.write_text(build_python_functions_file(funcs))
    return path


FUNCTION_PROMPT_TEMPLATE = """You can call these functions from your Python code: import them from the \
module `$module_name`, for example `from $module_name import name`.

$functions"""


def _stub(source: str) -> str:
    """The signature and docstring of the function in ``source``, its body elided."""
    node = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))
    docstring = ast.get_docstring(node)
    body: list[ast.stmt] = [ast.Expr(ast.Constant(docstring))] if docstring else []
    node.body = [*body, ast.Expr(ast.Constant(...))]
    node.decorator_list = []
    return ast.unparse(node)


def format_functions_for_prompt(
    funcs: Sequence[Any], module: str = "functions", prompt_template: str = FUNCTION_PROMPT_TEMPLATE
) -> str:
    """Tell a model which functions its code may import: ``prompt_template`` with ``$module_name``
    and ``$functions`` (each function's signature and docstring) filled in."""
    stubs = "\n\n".join(_stub(_source(func)) for func in funcs)
    return string.Template(prompt_template).substitute(module_name=module, functions=stubs)
