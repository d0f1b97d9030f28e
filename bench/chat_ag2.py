"""AG2 classic's side of the chat benchmarks, run in its own venv (ag2==0.14.0, `import autogen`).

Standalone on purpose: it imports nothing from threadcrew.

    bench/.venv-ag2/bin/python bench/chat_ag2.py turns --port P --turns 100 --repeat 3
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import autogen
from _measure import chat_main, median, rss_now_kb, rss_peak_kb


def pair(port: int, n: int = 0) -> tuple[Any, Any]:
    llm_config = {
        "config_list": [{"model": "gpt-4o-mini", "base_url": f"http://127.0.0.1:{port}/v1", "api_key": "sk-bench"}],
        "cache_seed": None,
    }
    assistant = autogen.AssistantAgent(f"assistant{n}", llm_config=llm_config)
    user = autogen.UserProxyAgent(
        f"user{n}",
        human_input_mode="NEVER",
        code_execution_config=False,
        default_auto_reply="continue",
        max_consecutive_auto_reply=10**6,
    )
    return user, assistant


async def turns(port: int, count: int, repeat: int) -> dict[str, Any]:
    user, assistant = pair(port)
    await user.a_initiate_chat(assistant, message="start", max_turns=5, silent=True)
    walls = []
    for _ in range(repeat):
        user, assistant = pair(port)
        start = time.perf_counter()
        await user.a_initiate_chat(assistant, message="start", max_turns=count, silent=True)
        walls.append(time.perf_counter() - start)
    return {"wall": median(walls), "turns": count}


async def concurrent(port: int, chats: int, count: int) -> dict[str, Any]:
    user, assistant = pair(port)
    await user.a_initiate_chat(assistant, message="start", max_turns=1, silent=True)
    base = rss_now_kb()
    start = time.perf_counter()
    pairs = [pair(port, i) for i in range(chats)]
    results = await asyncio.gather(
        *(u.a_initiate_chat(a, message="start", max_turns=count, silent=True) for u, a in pairs)
    )
    wall = time.perf_counter() - start
    peak = rss_peak_kb()
    assert all(len(r.chat_history) == 2 * count for r in results)
    return {"wall": wall, "chats": chats, "turns": count, "rss_per_chat_kb": (peak - base) / chats}


if __name__ == "__main__":
    chat_main(turns, concurrent)
