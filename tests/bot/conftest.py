"""The crew model behind the scripted OpenAI server, for every bot test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.bot.crew import Crew
from tests.bot.postgres import fresh_database
from tests.fakes.openai_server import ScriptedOpenAI


@pytest.fixture
def crew() -> Iterator[tuple[Crew, ScriptedOpenAI]]:
    model = Crew()
    with ScriptedOpenAI(responder=model) as server:
        yield model, server


@pytest.fixture
def postgres() -> Iterator[str]:
    """A fresh PostgreSQL database at the newest migration (procrastinate's schema included), dropped after."""
    yield from fresh_database()
