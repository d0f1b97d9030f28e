"""A group chat's whole state is JSON: stop anywhere, rebuild in a fresh object graph, go on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from agents import (
    AssistantAgent,
    ChatRun,
    ConversableAgent,
    DeferredInput,
    GroupChat,
    GroupChatManager,
    GroupChatRun,
    HumanInputSource,
    ScriptedInput,
    UserProxyAgent,
)
from tests.fakes.openai_server import ScriptedOpenAI, text

ANSWERS = ["the coder should add tests", "", "looks good, TERMINATE"]


@pytest.fixture
def model() -> Iterator[ScriptedOpenAI]:
    """Answers depend only on the request: selection prompts get a name, agents a short reply."""

    def respond(body: dict[str, Any]) -> Any:
        messages = body["messages"]
        system = messages[0]["content"] if messages and messages[0]["role"] == "system" else ""
        if system.startswith("You direct a conversation"):
            last = messages[-2].get("name") if len(messages) > 2 else None
            order = {"human": "coder", "coder": "reviewer", "reviewer": "human", "starter": "coder"}
            return text(order.get(last or "", "coder"), prompt_tokens=20, completion_tokens=1)
        count = sum(1 for m in messages if m["role"] != "system")
        return text(f"{system[:5]} answer after {count} messages", prompt_tokens=10 * count, completion_tokens=5)

    with ScriptedOpenAI(responder=respond) as server:
        yield server


def build(server: ScriptedOpenAI, source: HumanInputSource) -> tuple[GroupChatManager, list[ConversableAgent]]:
    """The team's definition, as a fresh process would build it."""
    coder = AssistantAgent("coder", system_message="Coder. Write code.", llm_config=server.llm_config())
    reviewer = AssistantAgent("reviewer", system_message="Reviewer. Review code.", llm_config=server.llm_config())
    human = UserProxyAgent("human", human_input_mode="ALWAYS", human_input_source=source, code_execution_config=False)
    chat = GroupChat([human, coder, reviewer], max_round=12)
    manager = GroupChatManager(
        chat, llm_config=server.llm_config(), is_termination_msg=lambda m: "TERMINATE" in m["content"]
    )
    return manager, [manager, human, coder, reviewer]


def round_trip(state: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(state))
    return loaded


def transcript(manager: GroupChatManager) -> list[dict[str, Any]]:
    return list(manager.groupchat.messages)


async def uninterrupted(model: ScriptedOpenAI) -> tuple[list[dict[str, Any]], Any, list[Any]]:
    manager, _team = build(model, ScriptedInput(ANSWERS))
    starter = ConversableAgent("starter", llm_config=False, human_input_mode="NEVER")
    run = GroupChatRun(manager, "Write a CSV parser.", starter, silent=True)
    assert await run.a_run() == "finished"
    bodies = model.bodies()
    model.requests.clear()
    return transcript(manager), run.result, bodies


async def test_a_group_chat_waiting_for_a_human_survives_a_restart_at_every_wait(model: ScriptedOpenAI) -> None:
    reference, reference_result, reference_bodies = await uninterrupted(model)

    manager, team = build(model, DeferredInput())
    starter = ConversableAgent("starter", llm_config=False, human_input_mode="NEVER")
    run = GroupChatRun(manager, "Write a CSV parser.", starter, silent=True)
    for answer in ANSWERS:
        assert await run.a_run() == "waiting"
        assert run.waiting is not None
        assert run.waiting.agent == "human"
        state = round_trip(run.to_json())
        manager, team = build(model, DeferredInput())  # a new process: new objects, same definitions
        starter = ConversableAgent("starter", llm_config=False, human_input_mode="NEVER")
        run = GroupChatRun.from_json(state, [*team, starter])
        run.deliver(answer)
    assert await run.a_run() == "finished"

    assert transcript(manager) == reference
    assert run.result.stop_reason == reference_result.stop_reason == "termination message from human"
    assert run.result.human_input == reference_result.human_input == ANSWERS
    assert run.result.cost == reference_result.cost
    assert model.bodies() == reference_bodies


async def test_the_state_between_any_two_steps_resumes_exactly(model: ScriptedOpenAI) -> None:
    reference, reference_result, _ = await uninterrupted(model)
    manager, team = build(model, ScriptedInput(ANSWERS))
    starter = ConversableAgent("starter", llm_config=False, human_input_mode="NEVER")
    run = GroupChatRun(manager, "Write a CSV parser.", starter, silent=True)
    steps = 0
    while run.status != "finished":
        await run.a_step()
        steps += 1
        state = round_trip(run.to_json())
        # Rebuild after every single step; answers given so far are in the transcript, not the source.
        remaining = ANSWERS[len(state["human_input"]) :]
        manager, team = build(model, ScriptedInput(remaining))
        starter = ConversableAgent("starter", llm_config=False, human_input_mode="NEVER")
        run = GroupChatRun.from_json(state, [*team, starter])
    assert steps > 10
    assert transcript(manager) == reference
    assert run.result.cost == reference_result.cost


async def test_a_group_chat_under_initiate_chat_resumes_at_the_waiting_speaker(model: ScriptedOpenAI) -> None:
    manager, team = build(model, ScriptedInput(ANSWERS))
    starter = ConversableAgent("starter", llm_config=False, human_input_mode="NEVER")
    await starter.a_initiate_chat(manager, message="Write a CSV parser.", silent=True)
    reference = transcript(manager)
    reference_bodies = model.bodies()
    model.requests.clear()

    manager, team = build(model, DeferredInput())
    starter = ConversableAgent("starter", llm_config=False, human_input_mode="NEVER")
    run = ChatRun(starter, manager, message="Write a CSV parser.", silent=True)
    for answer in ANSWERS:
        assert await run.a_run() == "waiting"
        state = round_trip(run.to_json())
        assert state["agents"]["chat_manager"]["run"]["phase"] == "speak"
        manager, team = build(model, DeferredInput())
        starter = ConversableAgent("starter", llm_config=False, human_input_mode="NEVER")
        run = ChatRun.from_json(state, [starter, *team])
        run.deliver(answer)
    assert await run.a_run() == "finished"
    assert transcript(manager) == reference
    assert model.bodies() == reference_bodies


async def test_a_new_process_picks_up_the_group_chat_where_the_last_one_stopped(
    model: ScriptedOpenAI, tmp_path: Any
) -> None:
    import subprocess
    import sys

    reference, _, reference_bodies = await uninterrupted(model)
    state = tmp_path / "state.json"
    script = [sys.executable, "-m", "tests.agents.team_definition"]

    def run(*args: str) -> list[str]:
        done = subprocess.run([*script, *args], capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()

    assert run("start", model.base_url, str(state)) == ["waiting"]
    for answer in ANSWERS[:-1]:
        assert run("answer", model.base_url, str(state), answer) == ["waiting"]
    *transcript_line, status = run("answer", model.base_url, str(state), ANSWERS[-1])
    assert status == "finished"
    assert json.loads(transcript_line[0]) == reference
    assert model.bodies() == reference_bodies
