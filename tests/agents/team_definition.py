"""A team definition that test processes build independently (for restart-in-a-new-process tests).

    python -m tests.agents.team_definition start BASE_URL STATE_FILE
    python -m tests.agents.team_definition answer BASE_URL STATE_FILE ANSWER

``start`` runs a group chat until it waits for the human; ``answer`` loads the state, delivers
the answer and runs on. Each prints the run's status; the state file always holds the latest.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from agents import (
    AssistantAgent,
    ConversableAgent,
    DeferredInput,
    GroupChat,
    GroupChatManager,
    GroupChatRun,
    HumanInputSource,
    UserProxyAgent,
    aclose_loop_resources,
)


def build(base_url: str, source: HumanInputSource) -> list[ConversableAgent]:
    llm = {"config_list": [{"model": "gpt-4o-mini", "base_url": base_url, "api_key": "sk-test"}], "max_retries": 0}
    coder = AssistantAgent("coder", system_message="Coder. Write code.", llm_config=llm)
    reviewer = AssistantAgent("reviewer", system_message="Reviewer. Review code.", llm_config=llm)
    human = UserProxyAgent("human", human_input_mode="ALWAYS", human_input_source=source, code_execution_config=False)
    chat = GroupChat([human, coder, reviewer], max_round=12)
    manager = GroupChatManager(chat, llm_config=llm, is_termination_msg=lambda m: "TERMINATE" in m["content"])
    starter = ConversableAgent("starter", llm_config=False, human_input_mode="NEVER")
    return [manager, starter]


async def main(command: str, base_url: str, state_file: Path, answer: str | None) -> None:
    manager, starter = build(base_url, DeferredInput())
    assert isinstance(manager, GroupChatManager)
    if command == "start":
        run = GroupChatRun(manager, "Write a CSV parser.", starter, silent=True)
    else:
        run = GroupChatRun.from_json(json.loads(state_file.read_text()), [manager, starter])
        assert answer is not None
        run.deliver(answer)
    status = await run.a_run()
    state_file.write_text(json.dumps(run.to_json()))
    if status == "finished":
        print(json.dumps(manager.groupchat.messages))
    print(status)
    await aclose_loop_resources()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None))
