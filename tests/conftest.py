"""Fixtures shared by every test: the scripted OpenAI server and resource clean-up."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from agents import aclose_loop_resources
from tests.fakes.openai_server import ScriptedOpenAI

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, reason: str) -> None:
    """Skip a test whose service is missing on a laptop; fail it in CI, where nothing real is skipped."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}")
    else:
        pytest.skip(reason)  # only outside CI


@pytest.fixture
def openai_server() -> Iterator[ScriptedOpenAI]:
    with ScriptedOpenAI() as server:
        yield server


@pytest.fixture(autouse=True)
async def _close_http_clients() -> AsyncIterator[None]:
    yield
    await aclose_loop_resources()
