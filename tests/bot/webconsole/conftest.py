"""Fixtures of the console's tests: the crew's model behind the scripted OpenAI server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.bot.crew import Crew
from tests.fakes.openai_server import ScriptedOpenAI


@pytest.fixture
def crew() -> Iterator[tuple[Crew, ScriptedOpenAI]]:
    model = Crew()
    with ScriptedOpenAI(responder=model) as server:
        yield model, server
