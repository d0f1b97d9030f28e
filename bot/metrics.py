"""The bot's Prometheus metrics, served as ``/metrics`` on its web server.

Each :class:`Metrics` has its own registry (never the process-wide default), so several bots
in one process (tests) keep their counts apart. The session and the dispatcher report what
happened with one call each; counts come from what a step's typed outcome and its usage say,
so agents/ knows nothing of Prometheus (model calls' latency comes through
:func:`agents.llm.observe_calls`). Conversations by status and the queue depth are read at
scrape time, from the database and the dispatcher: a gauge kept up to date by hand would
drift when another process (``threadcrew start``) changes the conversations.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from agents import AgentError, StepOutcome
from agents.llm import observe_calls
from storage import Database, NewUsage

from .platform_state import requests_of

if TYPE_CHECKING:
    from .dispatcher import Dispatcher

__all__ = ["TIMEOUT_EXIT_CODE", "Metrics", "code_run_outcome"]

TIMEOUT_EXIT_CODE = 124  # what the executors report for code that ran out of time
_STATUSES = ("running", "waiting")  # what list_active() returns
_STEP_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


def code_run_outcome(exit_code: int | None) -> str:
    """A code run's outcome from its exit code: ok, failed, refused (None: it did not run), timeout."""
    if exit_code is None:
        return "refused"
    if exit_code == 0:
        return "ok"
    return "timeout" if exit_code == TIMEOUT_EXIT_CODE else "failed"


class Metrics:
    """One bot's counters, histograms and gauges, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.conversations = Gauge(
            "threadcrew_conversations", "Conversations by status, read at scrape", ["status"], registry=r
        )
        self.queued = Gauge(
            "threadcrew_queued_events",
            "Events not handled yet: in threads' queues (queue) and in the inbox (inbox), read at scrape",
            ["where"],
            registry=r,
        )
        self.steps = Counter("threadcrew_steps", "Steps of runs, by result", ["result"], registry=r)
        self.step_seconds = Histogram(
            "threadcrew_step_seconds", "How long a step of a run took", registry=r, buckets=_STEP_BUCKETS
        )
        self.messages = Counter("threadcrew_messages", "Messages the steps added, by kind", ["kind"], registry=r)
        self.model_calls = Counter("threadcrew_model_calls", "Model calls, by model", ["model"], registry=r)
        self.model_errors = Counter("threadcrew_model_errors", "Failed model calls, by model", ["model"], registry=r)
        self.model_seconds = Histogram(
            "threadcrew_model_call_seconds", "How long a model call took, by model", ["model"], registry=r
        )
        self.tokens = Counter(
            "threadcrew_model_tokens", "Tokens, by model and kind (prompt, completion)", ["model", "kind"], registry=r
        )
        self.cost = Counter("threadcrew_model_cost_usd", "Cost of model calls in USD, by model", ["model"], registry=r)
        self.code_runs = Counter("threadcrew_code_runs", "Code runs, by outcome", ["outcome"], registry=r)
        self.posts = Counter("threadcrew_posts", "Messages posted, by platform", ["platform"], registry=r)
        self.platform_errors = Counter(
            "threadcrew_platform_errors", "Thread work a platform failed, by platform", ["platform"], registry=r
        )

    # -- what the session and the dispatcher report ----------------------------------------------

    @contextmanager
    def step(self) -> Iterator[None]:
        """Around one step: its latency and result, and the model calls it makes."""
        began, result = time.monotonic(), "error"
        try:
            with observe_calls(self.model_call):
                yield
            result = "ok"
        except TimeoutError:
            result = "timeout"
            raise
        except AgentError:
            result = "failed"
            raise
        except asyncio.CancelledError:
            result = "cancelled"
            raise
        finally:
            self.steps.labels(result).inc()
            self.step_seconds.observe(time.monotonic() - began)

    def model_call(self, model: str, seconds: float, failed: bool) -> None:
        """One model call (an :func:`agents.llm.observe_calls` observer)."""
        self.model_calls.labels(model).inc()
        self.model_seconds.labels(model).observe(seconds)
        if failed:
            self.model_errors.labels(model).inc()

    def saved(self, outcome: StepOutcome | None, usage: Sequence[NewUsage]) -> None:
        """What a save stored: the step's messages by kind, its code runs, the tokens and cost it used."""
        for added in outcome.messages if outcome is not None else ():
            self.messages.labels(added.kind).inc()
            if added.kind == "code_result":
                self.code_runs.labels(code_run_outcome(added.exit_code)).inc()
        for used in usage:
            self.tokens.labels(used.model, "prompt").inc(used.prompt_tokens)
            self.tokens.labels(used.model, "completion").inc(used.completion_tokens)
            self.cost.labels(used.model).inc(max(used.cost, 0.0))

    def posted(self, platform: str, count: int = 1) -> None:
        self.posts.labels(platform).inc(count)

    def platform_error(self, platform: str) -> None:
        self.platform_errors.labels(platform).inc()

    # -- scraping ----------------------------------------------------------------------------------

    async def refresh(self, db: Database, dispatcher: Dispatcher) -> None:
        """Read the gauges: conversations by status, and the events waiting."""
        counts = dict.fromkeys(_STATUSES, 0)
        for record in await db.stores.conversations.list_active():
            counts[record.status] = counts.get(record.status, 0) + 1
        for status, count in counts.items():
            self.conversations.labels(status).set(count)
        inbox = 0
        for platform in sorted(dispatcher.rt.served):  # its events, and its requests not handed over yet
            inbox += len(await db.stores.events.pending(platform))
            inbox += len(await db.stores.events.pending(requests_of(platform)))
        self.queued.labels("queue").set(await dispatcher.queued())
        self.queued.labels("inbox").set(inbox)

    def routes(self, db: Database, dispatcher: Dispatcher) -> list[web.RouteDef]:
        """``GET /metrics`` in Prometheus' text format."""

        async def scrape(request: web.Request) -> web.Response:
            await self.refresh(db, dispatcher)
            return web.Response(body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

        return [web.get("/metrics", scrape)]
