"""Events being taken in go before the work that earlier events started: a platform waits for
their answer (Slack gives up after 3 s), and both share one event loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

from adapters.arrivals import Arrivals
from tests.bot.crew import Crew, crew_bot, in_thread
from tests.fakes.openai_server import ScriptedOpenAI


async def test_a_threads_work_waits_while_an_event_is_taken_in_and_goes_on_once_it_is_answered(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with crew_bot(server, tmp_path) as bot:
        arrivals = bot.dispatcher.rt.arrivals
        arrivals.hold = 60  # longer than the test: only the answer lets the work go
        with arrivals.arriving():  # another platform's event, not answered yet
            await bot.platform.mention("t1", "chart the squares")  # in the inbox: its thread's worker is woken
            await asyncio.sleep(0)  # the worker's first turn
            assert arrivals.held == 1
            assert server.requests == []  # t1's conversation has not started
            assert (await bot.db.stores.events.pending("memory"))[0][1]["text"] == "chart the squares"
        await bot.platform.wait_for(in_thread("t1"))
    assert arrivals.held == 0


async def test_work_waits_for_a_steady_stream_of_arrivals_only_as_long_as_the_hold() -> None:
    arrivals = Arrivals(hold=0.01)
    await arrivals.settled()  # nothing arriving: at once
    with arrivals.arriving():
        await arrivals.settled()  # the arrival is never answered: the hold ends the wait
        assert (arrivals.count, arrivals.held) == (1, 0)
    assert arrivals.count == 0


async def test_every_worker_waiting_goes_on_when_the_last_arrival_is_answered() -> None:
    arrivals = Arrivals(hold=60)
    with arrivals.arriving():
        with arrivals.arriving():
            workers = [asyncio.create_task(arrivals.settled()) for _ in range(3)]
            await asyncio.sleep(0)  # their first turn
            assert arrivals.held == 3
        await asyncio.sleep(0)
        assert not any(w.done() for w in workers)  # one arrival is still being answered
    await asyncio.wait_for(asyncio.gather(*workers), 5)
    assert arrivals.held == 0
