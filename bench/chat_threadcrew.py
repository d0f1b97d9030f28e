"""threadcrew's side of the chat benchmarks (run in threadcrew's venv).

python -m bench.chat_threadcrew turns --port P --turns 100 --repeat 3
python -m bench.chat_threadcrew concurrent --port P --chats 200 --turns 10
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from agents import AssistantAgent, UserProxyAgent, aclose_loop_resources
from bench._measure import chat_main, median, rss_now_kb, rss_peak_kb


def pair(port: int, n: int = 0) -> tuple[UserProxyAgent, AssistantAgent]:
    llm_config = {
        "config_list": [{"model": "gpt-4o-mini", "base_url": f"http://127.0.0.1:{port}/v1", "api_key": "sk-bench"}],
        "cache_seed": None,
    }
    assistant = AssistantAgent(f"assistant{n}", llm_config=llm_config)
    user = UserProxyAgent(
        f"user{n}",
        human_input_mode="NEVER",
        code_execution_config=False,
        default_auto_reply="continue",
        max_consecutive_auto_reply=10**6,
    )
    return user, assistant


async def turns(port: int, count: int, repeat: int) -> dict[str, Any]:
    user, assistant = pair(port)
    await user.a_initiate_chat(assistant, message="start", max_turns=5, silent=True)  # warm up connections
    walls = []
    for _ in range(repeat):
        user, assistant = pair(port)
        start = time.perf_counter()
        await user.a_initiate_chat(assistant, message="start", max_turns=count, silent=True)
        walls.append(time.perf_counter() - start)
    system = assistant._oai_system_message[0].to_openai()
    history = [part for m in assistant.histories[user] for part in m.wire()]
    await aclose_loop_resources()
    return {"wall": median(walls), "turns": count, "system": system, "history": history}


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
    await aclose_loop_resources()
    return {"wall": wall, "chats": chats, "turns": count, "rss_per_chat_kb": (peak - base) / chats}


if __name__ == "__main__":
    chat_main(turns, concurrent)
