"""What ``runtime_logging`` costs a chat: off, to SQLite, to a file, to the bot's database.

python -m bench.runtime_logging [--turns 100] [--rounds 5]

A two-agent chat in one process (the model is a Python function, so nothing but the framework
is timed) whose assistant calls a tool every other turn. The modes take turns ``--rounds``
times and the best round of each is shown, the machine being shared. Logging off is a single
check at each place that would log: its own cost is measured apart, per call.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
import timeit
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from agents import AssistantAgent, FunctionModelClient, UserProxyAgent, runtime_logging
from agents.llm import ModelRequest
from bot.runtime_log import storage_runtime_logging
from storage import Database, upgrade


def model(request: ModelRequest) -> Any:
    """A tool call, then a word about its result, and again."""
    if request.messages[-1].get("role") == "tool":
        return "ok"
    call = {"id": f"c{len(request.messages)}", "type": "function", "function": {"name": "add", "arguments": "{}"}}
    return {"content": None, "tool_calls": [call]}


def pair() -> tuple[UserProxyAgent, AssistantAgent]:
    config = {"config_list": [{"model": "function", "model_client_cls": "FunctionModelClient"}]}
    assistant = AssistantAgent("assistant", llm_config=config)
    assistant.register_model_client(FunctionModelClient, fn=model)
    user = UserProxyAgent(
        "user", human_input_mode="NEVER", code_execution_config=False, max_consecutive_auto_reply=10**6
    )

    @user.register_for_execution()
    @assistant.register_for_llm(description="Add one and two.")
    async def add(a: int = 1, b: int = 2) -> int:
        return a + b

    return user, assistant


@contextlib.asynccontextmanager
async def logging_to(mode: str, where: Path) -> AsyncIterator[None]:
    if mode == "off":
        yield
    elif mode == "bot database":
        async with Database(f"sqlite:///{where / 'threadcrew.db'}") as db:
            await upgrade(db)
            async with storage_runtime_logging(db, lambda value: value):
                yield
    else:
        config = {"dbname": str(where / "logs.db")} if mode == "sqlite" else {"filename": str(where / "log.jsonl")}
        runtime_logging.start(logger_type=mode, config=config)  # type: ignore[arg-type]
        try:
            yield
        finally:
            runtime_logging.stop()


async def per_turn_ms(mode: str, turns: int) -> float:
    with tempfile.TemporaryDirectory() as where:
        async with logging_to(mode, Path(where)):
            user, assistant = pair()
            start = time.perf_counter()
            await user.a_initiate_chat(assistant, message="start", max_turns=turns, silent=True)
            return (time.perf_counter() - start) * 1000 / turns


def ns_per_call(check: Callable[[], object]) -> float:
    timer = timeit.Timer(check)
    calls, _ = timer.autorange()
    return min(timer.repeat(5, calls)) / calls * 1e9


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    modes = ["off", "sqlite", "file", "bot database"]
    print(f"\n== runtime_logging: a {args.turns}-turn chat with a tool call every other turn (best of {args.rounds})")
    await per_turn_ms("off", 10)  # warm up
    best = {mode: float("inf") for mode in modes}
    for _ in range(args.rounds):
        for mode in modes:
            best[mode] = min(best[mode], await per_turn_ms(mode, args.turns))
    for mode in modes:
        print(f"logging {mode:<12}: {best[mode]:8.3f} ms per turn = {best[mode] / best['off']:.2f}x off")
    check = ns_per_call(runtime_logging.logging_enabled)
    print(f"the check made where a record would go, logging off: {check:.0f} ns a call")
    # A turn passes about 4 of them: its model call, two messages received, every other turn a tool call.
    print(f"... about 4 of them a turn: {4 * check / (best['off'] * 1e6):.4%} of a turn")


if __name__ == "__main__":
    asyncio.run(main())
