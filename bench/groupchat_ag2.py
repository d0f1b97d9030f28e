"""AG2 classic's side of the group-chat benchmark, run in its own venv (standalone on purpose).

bench/.venv-ag2/bin/python bench/groupchat_ag2.py --port P --rounds 50 --method auto --repeat 3
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import autogen
from _measure import groupchat_main, median

NAMES = ("planner", "coder", "reviewer", "tester")


def team(port: int, rounds: int, method: str) -> tuple[Any, Any, Any]:
    llm_config = {
        "config_list": [{"model": "gpt-4o-mini", "base_url": f"http://127.0.0.1:{port}/v1", "api_key": "sk-bench"}],
        "cache_seed": None,
    }
    members = [autogen.AssistantAgent(name, llm_config=llm_config, max_consecutive_auto_reply=10**6) for name in NAMES]
    chat = autogen.GroupChat(members, messages=[], max_round=rounds, speaker_selection_method=method)
    manager = autogen.GroupChatManager(chat, llm_config=llm_config, silent=True)
    user = autogen.UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)
    return user, manager, chat


async def run(port: int, rounds: int, method: str, repeat: int) -> dict[str, Any]:
    user, manager, _ = team(port, 3, method)
    await user.a_initiate_chat(manager, message="start", silent=True)
    walls = []
    for _ in range(repeat):
        user, manager, chat = team(port, rounds, method)
        start = time.perf_counter()
        await user.a_initiate_chat(manager, message="start", silent=True)
        walls.append(time.perf_counter() - start)
        assert len(chat.messages) == rounds, len(chat.messages)
    return {"wall": median(walls), "rounds": rounds}


if __name__ == "__main__":
    groupchat_main(run)
