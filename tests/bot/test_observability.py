"""Observability: ``/metrics`` after a scripted conversation, and the logs' fields and masking."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from adapters import InMemoryPlatform, OutboundMessage, PlatformError, ThreadRef
from bot.logs import bind_thread, configure_logging
from bot.metrics import code_run_outcome
from tests.bot.crew import Crew, RunningBot, crew_bot, in_thread, settings_for
from tests.fakes.openai_server import ScriptedOpenAI, error

CODE = "```python\nprint(6 * 7)\n```"
Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


@pytest.fixture
def crew() -> Iterator[tuple[Crew, ScriptedOpenAI]]:
    model = Crew()
    with ScriptedOpenAI(responder=model) as server:
        yield model, server


async def scrape(bot: RunningBot) -> Samples:
    assert bot.bot.web is not None, "THREADCREW_HEALTH=true starts the web server"
    async with aiohttp.ClientSession() as session, session.get(f"{bot.bot.web.url}/metrics") as response:
        assert response.status == 200
        text = await response.text()
    samples: Samples = defaultdict(dict)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[sample.name][tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def by(samples: Samples, name: str, label: str) -> dict[str, float]:
    return {dict(labels)[label]: value for labels, value in samples[name].items()}


async def test_a_scrape_after_a_conversation_counts_its_steps_messages_tokens_code_and_posts(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    model.after.update({"coder": "runner", "runner": "reviewer"})
    model.say("coder", f"Here it is:\n{CODE}")
    settings = settings_for(tmp_path / "data", health=True)
    async with crew_bot(server, tmp_path, settings=settings) as bot:
        await bot.platform.mention("t1", "compute six times seven")
        await bot.platform.wait_for(lambda posts: bool(posts) and bool(posts[-1].message.buttons))
        await bot.platform.press("t1", "approve", "approve", who="bob")
        await bot.platform.wait_for(in_thread("t1"))
        await bot.idle()
        samples = await scrape(bot)
        stored = await bot.transcript("t1")

        # Six steps: planner, coder, runner asking for approval, runner running, reviewer, the turn to the people.
        assert by(samples, "threadcrew_steps_total", "result") == {"ok": 6}
        assert samples["threadcrew_step_seconds_count"][()] == 6
        said = [m for m in stored if m.author_kind != "system"]  # alice, planner, coder, runner, reviewer
        assert by(samples, "threadcrew_messages_total", "kind") == {"text": len(said) - 1, "code_result": 1}
        assert by(samples, "threadcrew_code_runs_total", "outcome") == {"ok": 1}
        assert by(samples, "threadcrew_model_calls_total", "model") == {"gpt-4o-mini": len(model.requests)}
        assert "threadcrew_model_errors_total" not in samples
        tokens = samples["threadcrew_model_tokens_total"]
        for name, used in (await bot.db.stores.usage.totals()).items():
            assert tokens[(("kind", "prompt"), ("model", name))] == used.prompt_tokens
            assert tokens[(("kind", "completion"), ("model", name))] == used.completion_tokens
            assert by(samples, "threadcrew_model_cost_usd_total", "model")[name] == pytest.approx(used.cost)
        posts = [p for p in bot.platform.in_thread("t1") if p.message.ephemeral_for is None]
        assert by(samples, "threadcrew_posts_total", "platform") == {"memory": len(posts)}
        assert by(samples, "threadcrew_conversations", "status") == {"running": 0, "waiting": 1}
        assert by(samples, "threadcrew_queued_events", "where") == {"queue": 0, "inbox": 0}


class RefusingPosts(InMemoryPlatform):
    """The platform refuses every post after the first."""

    async def post(self, thread: ThreadRef, message: OutboundMessage) -> str:
        if self.posts:
            raise PlatformError("chat.postMessage failed: internal_error")
        return await super().post(thread, message)


async def test_a_post_the_platform_refuses_counts_as_its_error(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    settings = settings_for(tmp_path / "data", health=True)
    async with crew_bot(server, tmp_path, RefusingPosts(), settings=settings) as bot:
        bot.dispatcher.retry_base = 600  # no retry while the test looks
        await bot.platform.mention("t1", "chart the squares")
        await bot.idle()  # the worker gave up at the refused post
        samples = await scrape(bot)
    assert by(samples, "threadcrew_posts_total", "platform") == {"memory": 1}
    assert by(samples, "threadcrew_platform_errors_total", "platform") == {"memory": 1}


def test_code_runs_are_told_apart_by_exit_code() -> None:
    assert [code_run_outcome(c) for c in (0, 1, 124, None)] == ["ok", "failed", "timeout", "refused"]


# -- logs -------------------------------------------------------------------------------------------

SECRET = "plain-secret-value-42"  # no token shape: only the configuration says it is secret


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
async def test_json_lines_name_the_thread_and_conversation_and_never_a_configured_secret(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    model.say("planner", error(500, f"upstream rejected the key {SECRET}"))
    settings = settings_for(
        tmp_path / "data", log_format="JSON", log_level="info", slack_bot_token=SECRET, discord_token="short"
    )
    out = io.StringIO()
    configure_logging(settings, stream=out)
    async with crew_bot(server, tmp_path, settings=settings) as bot:
        await bot.platform.mention("t1", "chart the squares")
        await bot.platform.wait_for(lambda posts: bool(posts) and posts[-1].text.startswith("The team stopped"))
        await bot.idle()
        conversation = (await bot.conversation("t1")).id
        thread = bot.platform.thread("t1").key

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    failed = [line for line in lines if line["message"].startswith("model call failed")]
    assert failed, lines
    assert all((line["thread"], line["conversation"]) == (thread, conversation) for line in failed)
    assert all({"time", "level", "logger"} <= set(line) for line in lines)
    assert "[redacted]" in failed[0]["message"]
    assert SECRET not in out.getvalue()
    assert SECRET not in bot.platform.in_thread("t1")[-1].text


@pytest.mark.usefixtures("restore_logging")
async def test_readable_lines_by_default_and_token_shapes_masked_in_messages_and_tracebacks() -> None:
    out = io.StringIO()
    configure_logging(settings_for(Path("unused")), stream=out)
    log = logging.getLogger("tests.observability")

    async def work() -> None:
        bind_thread("memory:W1:C1:t9", 7)
        try:
            raise ValueError("token xoxb-1234-5678-abcdefgh")
        except ValueError:
            log.exception("posting failed with ghp_%s", "a" * 36)

    await asyncio.create_task(work())
    log.warning("outside any thread")
    first, *rest = out.getvalue().splitlines()
    assert "tests.observability [thread memory:W1:C1:t9 conversation 7]: posting failed with [redacted]" in first
    assert "ValueError: token [redacted]" in "\n".join(rest)
    assert rest[-1].endswith("WARNING tests.observability: outside any thread")
    assert "xoxb-1234" not in out.getvalue()
    assert "ghp_aaaa" not in out.getvalue()
