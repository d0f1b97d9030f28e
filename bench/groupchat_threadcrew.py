"""threadcrew's side of the group-chat benchmark (run in threadcrew's venv).

    python -m bench.groupchat_threadcrew --port P --rounds 50 --method auto --repeat 3

Prints the wall time, the requests the chat made (to replay through the bare client), and the
rounds it ran. The scripted server answers every request with the next of the four agent names.
"""

from __future__ import annotations

import time
from typing import Any

from agents import AssistantAgent, GroupChat, GroupChatManager, UserProxyAgent, aclose_loop_resources
from agents.llm.client import LLMClient
from bench._measure import groupchat_main, median

NAMES = ("planner", "coder", "reviewer", "tester")


def team(port: int, rounds: int, method: str) -> tuple[UserProxyAgent, GroupChatManager, GroupChat]:
    llm_config = {
        "config_list": [{"model": "gpt-4o-mini", "base_url": f"http://127.0.0.1:{port}/v1", "api_key": "sk-bench"}],
        "cache_seed": None,
    }
    members = [AssistantAgent(name, llm_config=llm_config, max_consecutive_auto_reply=10**6) for name in NAMES]
    chat = GroupChat(members, max_round=rounds, speaker_selection_method=method)
    manager = GroupChatManager(chat, llm_config=llm_config, silent=True)
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)
    return user, manager, chat


async def run(port: int, rounds: int, method: str, repeat: int) -> dict[str, Any]:
    user, manager, _ = team(port, 3, method)
    await user.a_initiate_chat(manager, message="start", silent=True)  # warm up
    recorded: list[list[dict[str, Any]]] = []
    original = LLMClient.create

    async def recording(self: LLMClient, messages: list[dict[str, Any]], **kwargs: Any) -> Any:
        recorded.append(messages)
        return await original(self, messages, **kwargs)

    walls = []
    for attempt in range(repeat):
        user, manager, chat = team(port, rounds, method)
        if attempt == 0:
            LLMClient.create = recording  # type: ignore[method-assign]
        start = time.perf_counter()
        await user.a_initiate_chat(manager, message="start", silent=True)
        walls.append(time.perf_counter() - start)
        LLMClient.create = original  # type: ignore[method-assign]
        assert len(chat.messages) == rounds, len(chat.messages)
    await aclose_loop_resources()
    return {"wall": median(walls), "rounds": rounds, "requests": recorded}


if __name__ == "__main__":
    groupchat_main(run)
