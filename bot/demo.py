"""The console demo: a user proxy that runs code, and an assistant that writes it.

With ``OPENAI_API_KEY`` or ``OPENAI_BASE_URL`` set, the assistant uses that model
(``THREADCREW_MODEL``, default ``gpt-4o-mini``). Without, it uses a built-in scripted
model, announced as such, so that a fresh machine shows the whole flow: the assistant
writes code, the user proxy runs it, the output goes back, the assistant wraps up.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from agents import (
    AssistantAgent,
    ChatResult,
    FunctionModelClient,
    LocalCommandLineCodeExecutor,
    ModelRequest,
    UserProxyAgent,
    content_str,
)

__all__ = ["DEFAULT_TASK", "SCRIPTED_MODEL_NOTICE", "build_demo", "run_demo"]

DEFAULT_TASK = "What are the first 10 prime numbers, and what is their sum?"
SCRIPTED_MODEL_NOTICE = (
    "No OPENAI_API_KEY or OPENAI_BASE_URL is set: the assistant uses threadcrew's built-in scripted demo "
    "model, which follows a fixed script. Set one of them to talk to a real model."
)

_PRIMES_CODE = """```python
# filename: primes.py
def primes(count):
    found = []
    candidate = 2
    while len(found) < count:
        if all(candidate % p for p in found):
            found.append(candidate)
        candidate += 1
    return found

first = primes(10)
print("primes:", first)
print("sum:", sum(first))
```"""


def scripted_demo_model(request: ModelRequest) -> str:
    """The demo's stand-in for a model: write code, then read its output and finish."""
    last = content_str(request.messages[-1].get("content"))
    if last.startswith("exitcode: 0"):
        found = re.search(r"sum: (\d+)", last)
        total = found.group(1) if found else "in the output above"
        return f"The code ran: the first 10 primes add up to {total}. TERMINATE"
    if last.startswith("exitcode:"):
        return "The code failed; the output above says why. TERMINATE"
    return f"I will compute it with a short Python program:\n\n{_PRIMES_CODE}"


def _llm_config() -> tuple[dict[str, Any], bool]:
    base_url = os.environ.get("OPENAI_BASE_URL")
    if os.environ.get("OPENAI_API_KEY") or base_url:
        entry: dict[str, Any] = {"model": os.environ.get("THREADCREW_MODEL", "gpt-4o-mini")}
        if base_url:
            entry["base_url"] = base_url
            entry["api_key"] = os.environ.get("OPENAI_API_KEY", "not-needed")
        return {"config_list": [entry]}, False
    return {"config_list": [{"model": "threadcrew-demo", "model_client_cls": "FunctionModelClient"}]}, True


def build_demo(work_dir: Path | None = None) -> tuple[UserProxyAgent, AssistantAgent, bool]:
    """The demo's two agents, and whether the scripted model stands in for a real one."""
    llm_config, scripted = _llm_config()
    assistant = AssistantAgent("assistant", llm_config=llm_config)
    if scripted:
        assistant.register_model_client(FunctionModelClient, fn=scripted_demo_model)
    user = UserProxyAgent(
        "user",
        human_input_mode="ALWAYS",
        max_consecutive_auto_reply=10,
        code_execution_config={"executor": LocalCommandLineCodeExecutor(timeout=30, work_dir=work_dir)},
        is_termination_msg=lambda m: content_str(m.get("content")).rstrip().endswith("TERMINATE"),
    )
    return user, assistant, scripted


async def run_demo(task: str | None, work_dir: Path | None = None) -> ChatResult:
    """Run the demo chat on the console until someone ends it."""
    user, assistant, scripted = build_demo(work_dir)
    if scripted:
        print(SCRIPTED_MODEL_NOTICE, flush=True)
    print("Press enter to let the agents go on, type to reply yourself, 'exit' to stop.\n", flush=True)
    try:
        result = await user.a_initiate_chat(assistant, message=task or DEFAULT_TASK)
    finally:
        executor = user.code_executor
        if executor is not None:
            await executor.stop()
    print(f"\nSummary: {result.summary}")
    return result
