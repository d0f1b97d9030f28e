"""How many steps run at once (``THREADCREW_MAX_STEPS``): the gate's order, and the bot under it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.workqueue.gate import StepGate
from tests.bot.crew import Crew, authors, crew_bot, in_thread, settings_for
from tests.bot.test_threads import posted_in
from tests.fakes.openai_server import ScriptedOpenAI


async def settle() -> None:
    """Let every task that can run go as far as it can (they only wait for the gate and each other)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_past_the_limit_a_first_step_goes_before_steps_that_waited_longer() -> None:
    gate = StepGate(1)
    order: list[str] = []
    finish = asyncio.Event()

    async def step(name: str, *, first: bool) -> None:
        async with gate.slot(first=first):
            order.append(name)
            if name == "running":
                await finish.wait()

    tasks = [asyncio.create_task(step("running", first=False))]
    await settle()
    for name, first in (("next of a run", False), ("another run", False), ("a new mention's", True)):
        tasks.append(asyncio.create_task(step(name, first=first)))
        await settle()
    assert order == ["running"]  # the one slot is taken: the rest wait

    finish.set()
    await asyncio.gather(*tasks)
    assert order == ["running", "a new mention's", "next of a run", "another run"]


async def test_no_more_steps_than_the_limit_run_at_once_and_all_of_them_run() -> None:
    gate = StepGate(2)
    running, most, done = 0, 0, 0
    go_on = asyncio.Event()

    async def step(first: bool) -> None:
        nonlocal running, most, done
        async with gate.slot(first=first):
            running += 1
            most = max(most, running)
            await go_on.wait()
            running -= 1
            done += 1

    tasks = [asyncio.create_task(step(i % 3 == 0)) for i in range(9)]
    await settle()
    assert running == 2
    go_on.set()
    await asyncio.gather(*tasks)
    assert (most, done) == (2, 9)


async def test_a_step_cancelled_while_it_waits_leaves_no_slot_taken() -> None:
    gate = StepGate(1)
    finish = asyncio.Event()
    ran: list[str] = []

    async def step(name: str) -> None:
        async with gate.slot(first=False):
            ran.append(name)
            await finish.wait()

    holder = asyncio.create_task(step("holder"))
    await settle()
    waiting = asyncio.create_task(step("cancelled"))
    await settle()
    waiting.cancel()
    await settle()
    finish.set()
    await holder
    await asyncio.wait_for(step("after"), 5)  # the slot came back: this one runs
    assert ran == ["holder", "after"]
    assert waiting.cancelled()


async def test_without_a_limit_every_step_runs_at_once() -> None:
    gate = StepGate()
    inside = 0
    go_on = asyncio.Event()

    async def step() -> None:
        nonlocal inside
        async with gate.slot(first=False):
            inside += 1
            await go_on.wait()

    tasks = [asyncio.create_task(step()) for _ in range(50)]
    await settle()
    assert inside == 50
    go_on.set()
    await asyncio.gather(*tasks)


async def test_a_bot_running_one_step_at_a_time_takes_two_threads_to_their_waits(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with crew_bot(server, tmp_path, settings={"max_steps": 1}) as bot:
        await bot.platform.mention("t1", "chart the squares")
        await bot.platform.mention("t2", "chart the cubes")
        await bot.platform.wait_for(lambda posts: in_thread("t1")(posts) and in_thread("t2")(posts))
        for thread in ("t1", "t2"):
            assert authors(posted_in(bot, thread)) == ["planner", "coder", "reviewer", "threadcrew"]


def test_max_steps_must_be_at_least_one(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="max_steps"):
        settings_for(tmp_path, max_steps=0)
