"""The work queue: in memory on SQLite; procrastinate jobs on PostgreSQL (one at a time per thread, a
dead worker's job run again).

Each PostgreSQL test gets a fresh database at the newest migration (procrastinate's schema included).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from adapters import InMemoryPlatform, ThreadRef
from bot.errors import StartupError
from bot.scheduling import Scheduler
from bot.scheduling.service import dispatcher_start
from bot.settings import Settings
from bot.workqueue import Accepted
from bot.workqueue.jobs import JobQueue
from bot.workqueue.local import LocalQueue
from tests.bot.crew import Crew, RunningBot, authors, in_thread, last_starts, running_bot, write_team
from tests.bot.postgres import die_holding_a_job, fail_jobs, jobs_of, scheduled_jobs
from tests.bot.test_threads import FailingPosts
from tests.fakes.openai_server import ScriptedOpenAI


def on_postgres(data_dir: Path, url: str, **overrides: Any) -> Settings:
    settings: dict[str, Any] = {"step_timeout": 30, "drain_seconds": 10, "http_port": 0, **overrides}
    return Settings(data_dir=data_dir, database_url=url, **settings)


@contextlib.asynccontextmanager
async def bot_on(
    tmp_path: Path,
    server: ScriptedOpenAI,
    url: str,
    name: str,
    platform: InMemoryPlatform | None = None,
    **overrides: Any,
) -> AsyncIterator[RunningBot]:
    team = write_team(tmp_path / "crew.yaml", server.base_url)
    settings = on_postgres(tmp_path / name, url, **overrides)
    async with running_bot(tmp_path / name, team, platform or InMemoryPlatform(), settings) as bot:
        try:
            yield bot
        finally:
            await bot.bot.close()  # a worker takes no events: closing its platform does not end it


async def test_sqlite_keeps_the_in_memory_queue_and_refuses_other_roles(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    team = write_team(tmp_path / "crew.yaml", server.base_url)
    async with running_bot(tmp_path / "data", team) as bot:
        assert isinstance(bot.dispatcher.queue, LocalQueue)
        await bot.platform.mention("t1", "chart the squares")
        await bot.platform.wait_for(in_thread("t1"))
    with pytest.raises(StartupError, match="THREADCREW_ROLE=worker needs PostgreSQL"):
        async with running_bot(tmp_path / "data", team, settings={"role": "worker"}):
            pass


async def test_on_postgresql_a_thread_is_one_job_at_a_time_and_its_events_wait_in_the_inbox(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, postgres: str
) -> None:
    model, server = crew
    gate = model.hold("coder")
    async with bot_on(tmp_path, server, postgres, "data") as bot:
        assert isinstance(bot.dispatcher.queue, JobQueue)
        mention = await bot.platform.mention("t1", "chart the squares")
        await model.arrived("coder")  # t1's job is mid-step
        await bot.platform.say("t1", "use blue bars")
        await bot.platform.say("t1", "and a title")
        lock = mention.thread.key
        # One job runs the thread; the one queued meanwhile (one only, however many events) waits for it.
        assert jobs_of(postgres, lock) == ["doing", "todo"]
        assert await bot.dispatcher.queued() == 1  # the queue's depth (what /metrics reports) is the queued job
        await bot.platform.mention("t2", "count the words")
        await bot.platform.wait_for(in_thread("t2"))  # another thread is not held up
        gate.set()
        await bot.platform.wait_for(in_thread("t1"))
        await bot.idle()
        said = [m.content for m in await bot.transcript("t1") if m.author_kind == "human"]
        assert said == ["chart the squares", "use blue bars", "and a title"]
        assert await bot.db.stores.events.pending("memory") == []
        assert authors(bot.platform.in_thread("t2"))[:3] == ["planner", "coder", "reviewer"]
    assert jobs_of(postgres, lock) == []  # done jobs are deleted


async def test_a_dead_workers_job_runs_again_on_a_live_worker(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, postgres: str
) -> None:
    _, server = crew
    async with bot_on(tmp_path, server, postgres, "intake", role="intake") as intake:
        mention = await intake.platform.mention("t1", "chart the squares")
        lock = mention.thread.key
        assert jobs_of(postgres, lock) == ["todo"]  # queued; this process runs no jobs
    die_holding_a_job(postgres)
    assert jobs_of(postgres, lock) == ["doing"]
    async with bot_on(tmp_path, server, postgres, "worker", role="worker", queue_stall_seconds=1) as worker_bot:
        await worker_bot.platform.wait_for(in_thread("t1"))  # the live worker ran the thread
        await worker_bot.idle()
        assert authors(worker_bot.platform.in_thread("t1"))[:3] == ["planner", "coder", "reviewer"]
    assert jobs_of(postgres, lock) == []


async def test_a_stalled_job_goes_back_in_the_queue_once(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, postgres: str
) -> None:
    _, server = crew
    async with bot_on(tmp_path, server, postgres, "intake", role="intake", queue_stall_seconds=1) as intake:
        queue = intake.dispatcher.queue
        assert isinstance(queue, JobQueue)
        mention = await intake.platform.mention("t1", "chart the squares")
        die_holding_a_job(postgres)
        assert jobs_of(postgres, mention.thread.key) == ["doing"]
        assert await queue.retry_stalled() == 1
        assert jobs_of(postgres, mention.thread.key) == ["todo"]  # its lock is free: any worker may run it
        assert await queue.retry_stalled() == 0


async def test_a_thread_whose_post_failed_is_queued_again_after_a_backoff(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, postgres: str
) -> None:
    _, server = crew
    platform = FailingPosts(1, after_posting=False)  # the coder's post fails
    async with bot_on(tmp_path, server, postgres, "data", platform) as bot:
        mention = await platform.mention("t1", "chart the squares")
        while (await status_of(bot, "t1")) != "retrying":  # noqa: ASYNC110 - the database has no event to wait on
            await asyncio.sleep(0.05)
        # The retry is a job scheduled for later (the backoff), not a timer in this process.
        assert scheduled_jobs(postgres, mention.thread.key) == 1
        platform.failing = False
        await platform.wait_for(in_thread("t1"))
        await bot.idle()
        assert authors(platform.in_thread("t1")) == ["planner", "coder", "reviewer", "threadcrew"]
        assert await bot.db.stores.messages.outbox() == []


async def status_of(bot: RunningBot, thread: str) -> str | None:
    found = await bot.db.stores.conversations.find("memory", "W1", "C1", thread)
    return found.status if found is not None else None


async def test_a_scheduled_fire_starts_its_run_through_the_queue_and_any_worker_runs_it(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, postgres: str
) -> None:
    _, server = crew
    async with bot_on(tmp_path, server, postgres, "intake", role="intake") as intake:
        row = await intake.db.stores.schedules.add(
            "digest",
            team="crew",
            platform="memory",
            workspace_id="W1",
            channel_id="C1",
            every_seconds=1800,
            message="digest",
        )
        scheduler = Scheduler(intake.db, dispatcher_start(intake.dispatcher), platforms={"memory"})
        [fired] = await scheduler.run_due(row.created_at + dt.timedelta(minutes=31))
        assert fired.schedule.id == row.id
        [opening] = intake.platform.posts  # the fire opened the thread; the run waits for a worker
        thread = opening.thread.thread_id
        assert jobs_of(postgres, f"memory:W1:C1:{thread}") == ["todo"]
    async with bot_on(tmp_path, server, postgres, "worker", role="worker") as worker_bot:
        await worker_bot.platform.wait_for(in_thread(thread))
        assert authors(worker_bot.platform.in_thread(thread))[:3] == ["planner", "coder", "reviewer"]


@pytest.mark.timeout(180)  # three starts of the command, on a loaded machine
def test_the_command_refuses_roles_where_one_process_must_do_everything(tmp_path: Path, postgres: str) -> None:
    from tests.bot.test_cli import run_cli

    data = {"THREADCREW_DATA_DIR": str(tmp_path / "data")}
    on_sqlite = run_cli("run", "--platform", "slack", "--role", "worker", env=data, cwd=tmp_path)
    assert on_sqlite.returncode == 2
    assert "--role worker needs PostgreSQL (THREADCREW_DATABASE_URL=postgresql://...)" in on_sqlite.stderr
    console = run_cli("run", "--role", "intake", env={**data, "THREADCREW_DATABASE_URL": postgres}, cwd=tmp_path)
    assert console.returncode == 2
    assert "the console thread lives in one process: serve console with role all" in console.stderr
    unknown = run_cli("run", "--role", "boss", env=data, cwd=tmp_path)
    assert unknown.returncode == 2
    assert "there is no role 'boss'; use one of intake, worker, all" in unknown.stderr


async def test_the_sweep_queues_a_running_conversation_whose_worker_died_and_leaves_a_live_one_alone(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    gate = model.hold("coder")
    team = write_team(tmp_path / "crew.yaml", server.base_url)
    async with running_bot(tmp_path / "data", team) as bot:
        queue = bot.dispatcher.queue
        assert isinstance(queue, LocalQueue)
        await bot.platform.mention("t1", "chart the squares")
        await model.arrived("coder")  # t1's worker is mid-step: the sweep leaves it alone
        assert await bot.dispatcher.sweep() == 0
        await queue.drain(0)  # its worker dies outside the work loop: nothing queues the thread again
        gate.set()
        assert await status_of(bot, "t1") == "running"
        assert await bot.db.stores.messages.outbox() == []
        assert await bot.db.stores.events.pending("memory") == []
        queue._closing = False  # the queue takes work again, as after a restart without the recovery
        assert await bot.dispatcher.sweep() == 1
        await bot.platform.wait_for(in_thread("t1"))
        await bot.idle()
        assert authors(bot.platform.in_thread("t1"))[:3] == ["planner", "coder", "reviewer"]


async def test_the_sweep_leaves_an_event_on_its_way_from_the_inbox_to_the_queue_to_its_taker(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    """On a loaded loop the sweep can run after the inbox took a mention and before its taker queued
    it (the steady bench's threads lost a message so): queued by both, the mention was handled twice,
    its second copy said into the run as a person's message. It is handled once."""
    model, server = crew
    team = write_team(tmp_path / "crew.yaml", server.base_url)
    async with running_bot(tmp_path / "data", team) as bot:
        queue = bot.dispatcher.queue
        assert isinstance(queue, LocalQueue)
        wake, swept = queue.wake, []

        async def sweep_then_wake(thread: ThreadRef, accepted: Accepted | None = None) -> None:
            swept.append(await bot.dispatcher.sweep())  # the event is in the inbox, in no worker's queue yet
            await wake(thread, accepted)

        queue.wake = sweep_then_wake  # type: ignore[method-assign]
        await bot.platform.mention("t1", "chart the squares")
        await bot.platform.wait_for(in_thread("t1"))
        await bot.idle()
        assert swept == [0]
        people = [m.content for m in await bot.transcript("t1") if m.author_kind == "human"]
        assert people == ["chart the squares"]
        assert authors(bot.platform.in_thread("t1")) == ["planner", "coder", "reviewer", "threadcrew"]  # its question
        assert model.seen("planner") == 1


async def test_on_postgresql_the_sweep_queues_a_running_conversation_whose_job_failed_once(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, postgres: str
) -> None:
    model, server = crew
    gate = model.hold("coder")
    async with bot_on(tmp_path, server, postgres, "intake", role="intake", queue_stall_seconds=60) as intake:
        async with bot_on(tmp_path, server, postgres, "worker", role="worker", drain_seconds=0) as worker_bot:
            mention = await intake.platform.mention("t1", "chart the squares")
            lock = mention.thread.key
            await model.arrived("coder")  # the worker's job is mid-step: the sweep leaves it alone
            assert await intake.dispatcher.sweep() == 0
            assert jobs_of(postgres, lock) == ["doing"]
            await worker_bot.bot.close()
        gate.set()
        fail_jobs(postgres, lock)  # the job the stopped worker left (its own was aborted) fails before it runs
        assert await status_of(intake, "t1") == "running"
        assert await intake.db.stores.events.pending("memory") == []
        assert await intake.dispatcher.sweep() == 1
        assert jobs_of(postgres, lock) == ["aborted", "failed", "todo"]
        assert await intake.dispatcher.sweep() == 0  # its job waits: no second one
        assert jobs_of(postgres, lock) == ["aborted", "failed", "todo"]
    async with bot_on(tmp_path, server, postgres, "worker2", role="worker") as worker_bot:
        await worker_bot.platform.wait_for(lambda posts: authors(posts)[:2] == ["coder", "reviewer"])
        await worker_bot.idle()


@contextlib.asynccontextmanager
async def backing_off_worker(
    tmp_path: Path, server: ScriptedOpenAI, url: str, name: str, platform: InMemoryPlatform
) -> AsyncIterator[RunningBot]:
    """A worker whose failed threads are tried again after 0.05 s, doubling, and stop at the third failure."""
    async with bot_on(
        tmp_path, server, url, name, platform, role="worker", retry_seconds=0.05, retry_give_up_after=3
    ) as worker_bot:
        yield worker_bot


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Until ``check()`` is true: the bots write the database, which has no event to wait on."""
    while not await check():  # noqa: ASYNC110 - the database has no event to wait on
        await asyncio.sleep(0.05)


async def test_a_thread_failing_on_each_worker_in_turn_backs_off_by_its_stored_count_then_stops_once(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, postgres: str, caplog: pytest.LogCaptureFixture
) -> None:
    _, server = crew
    caplog.set_level(logging.WARNING, logger="bot.workqueue.thread_work")
    async with bot_on(tmp_path, server, postgres, "intake", role="intake") as intake:

        async def failed(times: int) -> bool:
            """The thread failed ``times`` times, and its worker is done with it: its retry waits."""
            failures = sum("failed; " in r.getMessage() for r in caplog.records)  # what each worker logged
            return failures >= times and jobs_of(postgres, mention.thread.key) == ["todo"]

        async def stopped() -> bool:
            return await status_of(intake, "t1") == "failed" and jobs_of(postgres, mention.thread.key) == []

        # Each worker leaves as soon as the thread failed on it; its retry (a job scheduled for
        # later) is the next worker's, so the thread fails on each in turn.
        async with backing_off_worker(tmp_path, server, postgres, "a", FailingPosts(1, after_posting=False)):
            mention = await intake.platform.mention("t1", "chart the squares")  # the coder's post fails
            await until(lambda: failed(1))
        async with backing_off_worker(tmp_path, server, postgres, "b", FailingPosts(0, after_posting=False)):
            await until(lambda: failed(2))
        platform = FailingPosts(0, after_posting=False)
        async with backing_off_worker(tmp_path, server, postgres, "a", platform) as again:
            await until(stopped)  # and not tried again: no job
            platform.failing = False  # the platform is back: the sweep posts what is stored, the note once
            assert await intake.dispatcher.sweep() == 1
            await again.platform.wait_for(last_starts("The team stopped"))
            await again.idle()
        # Read while the intake's database is open (a closed Database refuses reads).
        notes = [m.content for m in await intake.transcript("t1") if (m.content or "").startswith("The team stopped")]
        status = await status_of(intake, "t1")
        failures = (await intake.conversation("t1")).failures
    said = [r.getMessage() for r in caplog.records]
    assert [line.rsplit("trying again in ", 1)[-1] for line in said if "trying again" in line] == ["0.05 s", "0.1 s"]
    # A failure past the limit (a starting worker's recovery may queue the thread once more) adds no note.
    assert notes == ["The team stopped: its work failed 3 times in a row. Mention me to try again."]
    assert [p.text for p in platform.posts if p.text.startswith("The team stopped")] == notes
    assert status == "failed"
    assert failures == 0  # its work went through at last: counted from one again


async def test_on_sqlite_a_thread_failing_too_often_stops_with_one_note_and_its_messages_go_out_later(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    platform = FailingPosts(1, after_posting=False)  # the coder's post fails, and so does every retry
    team = write_team(tmp_path / "crew.yaml", server.base_url)
    settings = {"retry_seconds": 0.01, "retry_give_up_after": 3}
    async with running_bot(tmp_path / "data", team, platform, settings) as bot:
        await platform.mention("t1", "chart the squares")
        while (await status_of(bot, "t1")) != "failed":  # noqa: ASYNC110 - the database has no event to wait on
            await asyncio.sleep(0.05)
        await bot.idle()
        assert (await bot.conversation("t1")).failures == 3
        platform.failing = False
        assert await bot.dispatcher.sweep() == 1  # not retried any more: the sweep posts what is stored
        await platform.wait_for(last_starts("The team stopped"))
        await bot.idle()
        assert [p.text for p in platform.posts if p.text.startswith("The team stopped")] == [
            "The team stopped: its work failed 3 times in a row. Mention me to try again."
        ]
        assert authors(platform.posts) == ["planner", "coder", "threadcrew"]
        assert (await bot.conversation("t1")).failures == 0
