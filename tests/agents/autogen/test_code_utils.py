"""code_utils, CodeExecutorFactory and functions for code blocks, as AutoGen 0.2 users call them."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents import (
    CodeBlock,
    CodeExecutor,
    CodeExecutorFactory,
    ConfigurationError,
    FunctionWithRequirements,
    LocalCommandLineCodeExecutor,
    with_requirements,
)
from agents.code_utils import UNKNOWN, content_str, execute_code, extract_code, infer_lang
from agents.coding.func_with_reqs import Alias, ImportFromModule, build_python_functions_file


def test_extract_code_keeps_labels_as_written_and_returns_the_text_when_there_is_no_code() -> None:
    text = "Try:\n```python\nprint('hi')\n```\nand\n```bash\nls\n```\nor\n```\nx = 1\n```"
    assert extract_code(text) == [("python", "print('hi')"), ("bash", "ls"), ("", "x = 1")]
    assert extract_code("no code here") == [(UNKNOWN, "no code here")]
    assert extract_code("run `pip list` now", detect_single_line_code=True) == [("", "pip list")]
    assert extract_code([{"type": "text", "text": "```sh\nls\n```"}]) == [("sh", "ls")]


def test_infer_lang_and_content_str() -> None:
    assert infer_lang("pip install numpy") == "sh"
    assert infer_lang("x = [i for i in range(3)]") == "python"
    assert infer_lang("this is { not code") == UNKNOWN
    content = [{"type": "text", "text": "look: "}, {"type": "image_url", "image_url": {"url": "data:,"}}]
    assert content_str(content) == "look: <image>"
    assert content_str(None) == ""


def test_execute_code_runs_code_or_a_file_and_reports_exit_code_output_and_image(tmp_path: Path) -> None:
    exit_code, output, image = execute_code("print(2 + 2)", work_dir=str(tmp_path), use_docker=False)
    assert (exit_code, output, image) == (0, "4\n", None)
    exit_code, output, _ = execute_code("echo from sh", work_dir=str(tmp_path), use_docker=False, lang="bash")
    assert (exit_code, output) == (0, "from sh\n")
    (tmp_path / "script.py").write_text("import sys\nprint('file'); sys.exit(3)\n")
    exit_code, output, _ = execute_code(filename="script.py", work_dir=str(tmp_path), use_docker=False)
    assert (exit_code, output) == (3, "file\n")
    exit_code, output, _ = execute_code(filename="script.py", work_dir=str(tmp_path), use_docker=False)
    assert (exit_code, output) == (3, "file\n")  # running it again does not grow the file
    assert (tmp_path / "script.py").read_text().count("# filename:") == 1
    exit_code, output, _ = execute_code(
        "import time; time.sleep(5)", timeout=0.5, work_dir=str(tmp_path), use_docker=False
    )
    assert exit_code == 124
    assert "Timeout" in output
    with pytest.raises(ConfigurationError, match="needs code"):
        execute_code(use_docker=False)


def test_code_executor_factory_builds_the_named_executor(tmp_path: Path) -> None:
    executor = CodeExecutorFactory.create(
        {"executor": "commandline-local", "commandline-local": {"work_dir": str(tmp_path), "timeout": 5}}
    )
    assert isinstance(executor, LocalCommandLineCodeExecutor)
    assert isinstance(executor, CodeExecutor)
    assert CodeExecutorFactory.create({"executor": executor}) is executor
    with pytest.raises(ConfigurationError, match="unknown code executor 'jupyter-local'"):
        CodeExecutorFactory.create({"executor": "jupyter-local"})


@with_requirements(python_packages=[], global_imports=["math", Alias("json", "j")])
def circle_area(radius: float) -> float:
    """The area of a circle."""
    return round(math.pi * radius**2, 2)


def add(a: int, b: int) -> int:
    return a + b


import math  # noqa: E402  (the decorated function's module-level import, after it on purpose)


def test_functions_are_importable_by_code_blocks(tmp_path: Path) -> None:
    assert circle_area(1) == 3.14  # still callable, and still itself
    assert isinstance(circle_area, FunctionWithRequirements)
    assert circle_area.__name__ == "circle_area"
    from_source = FunctionWithRequirements.from_str("def twice(x):\n    return 2 * x\n")
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path, functions=[circle_area, add, from_source])
    code = "from functions import add, circle_area, twice\nprint(add(1, 2), circle_area(2), twice(4))"
    result = executor.execute_code_blocks([CodeBlock(code=code, language="python")])
    assert (result.exit_code, result.output) == (0, "3 12.57 8\n")


def test_the_functions_module_has_its_imports_and_no_decorators(tmp_path: Path) -> None:
    source = build_python_functions_file([circle_area, add])
    assert source.startswith("import math\nimport json as j\n")
    assert "@with_requirements" not in source
    imports = [ImportFromModule("os.path", ["join", Alias("exists", "there")])]
    assert build_python_functions_file([FunctionWithRequirements.from_callable(add, None, imports)]).startswith(
        "from os.path import join, exists as there\n"
    )
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path, functions=[add], functions_module="tools")
    result = executor.execute_code_blocks([CodeBlock(code="from tools import add; print(add(2, 3))", language="py")])
    assert result.output == "5\n"
    with pytest.raises(ConfigurationError, match="functions_module 'my-tools'"):
        LocalCommandLineCodeExecutor(work_dir=tmp_path, functions=[add], functions_module="my-tools")
    with pytest.raises(ConfigurationError, match="exactly one function"):
        FunctionWithRequirements.from_str("x = 1")
    with pytest.raises(ConfigurationError, match="give a named function"):
        build_python_functions_file([lambda: 1])


def test_format_functions_for_prompt_lists_signatures_and_docstrings(tmp_path: Path) -> None:
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path, functions=[circle_area, add])
    prompt = executor.format_functions_for_prompt()
    assert "from functions import name" in prompt
    assert 'def circle_area(radius: float) -> float:\n    """The area of a circle."""\n    ...' in prompt
    assert "def add(a: int, b: int) -> int:\n    ..." in prompt
    assert "return a + b" not in prompt
    assert executor.format_functions_for_prompt("Module $module_name:\n$functions").startswith("Module functions:\n")
