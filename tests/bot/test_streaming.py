"""Streamed replies: a preview while the model writes, turned into the stored reply when the
step ends; taken away when the step fails; closed before Slack's five minutes."""

from __future__ import annotations

from pathlib import Path

from adapters import Capabilities, InMemoryPlatform, MessageStream, OutboundMessage, Persona, ThreadRef
from bot.streaming import APPEND_EVERY, StepStream
from tests.bot.crew import Crew, authors, crew_bot, until_waiting
from tests.fakes.openai_server import ScriptedOpenAI

THREAD = ThreadRef("memory", "W1", "C1", "t1")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def stream_for(platform: InMemoryPlatform, clock: Clock) -> StepStream:
    return StepStream(platform, THREAD, lambda name: Persona(name, name.title()), lambda: "alice", clock)


async def test_the_preview_grows_at_most_every_half_second_and_becomes_the_reply() -> None:
    platform, clock = InMemoryPlatform(), Clock()
    stream = stream_for(platform, clock)
    await stream.delta("coder", "Here ")  # the first words show at once
    clock.now += APPEND_EVERY / 2
    await stream.delta("coder", "is ")  # too soon: kept for the next append
    clock.now += APPEND_EVERY
    await stream.delta("coder", "the code")
    assert [p.text for p in platform.posts] == ["Here is the code"]
    live = await stream.take("coder")
    assert live is not None
    final_id = await live.finish(OutboundMessage(Persona("coder"), "Here is the code.", key="tc-9"))
    assert [(p.id, p.text, p.message.key) for p in platform.posts] == [(final_id, "Here is the code.", "tc-9")]


async def test_a_reply_still_coming_after_four_minutes_closes_its_preview_which_goes_when_it_is_posted() -> None:
    platform, clock = InMemoryPlatform(capabilities=Capabilities(streaming=True, stream_seconds=300)), Clock()
    stream = stream_for(platform, clock)
    assert stream.max_age == 240  # four of Slack's five minutes
    await stream.delta("coder", "A long ")
    clock.now += stream.max_age
    await stream.delta("coder", "story")
    assert [p.text for p in platform.posts] == ["A long story …"]  # closed in time, as far as it got
    clock.now += 60
    await stream.delta("coder", " goes on")  # not shown: no new preview for the same reply
    assert await stream.take("coder") is None  # so the reply is posted as usual...
    assert platform.posts == []  # ...and the closed preview is gone


async def test_a_failed_step_takes_its_preview_away_and_platforms_without_streams_are_fine() -> None:
    platform, clock = InMemoryPlatform(), Clock()
    stream = stream_for(platform, clock)
    await stream.delta("planner", "Thinking about")
    await stream.drop()
    assert platform.posts == []

    class NoStreams(InMemoryPlatform):
        async def start_stream(
            self, thread: ThreadRef, persona: Persona, *, reader: str | None = None
        ) -> MessageStream | None:
            return None

    quiet = NoStreams()
    stream = stream_for(quiet, clock)
    await stream.delta("planner", "Thinking")
    assert quiet.posts == []
    assert await stream.take("planner") is None


async def test_a_stream_that_fails_never_breaks_the_step() -> None:
    class Broken(InMemoryPlatform):
        async def start_stream(
            self, thread: ThreadRef, persona: Persona, *, reader: str | None = None
        ) -> MessageStream | None:
            raise ConnectionError("the platform is down")

    platform, clock = Broken(), Clock()
    stream = stream_for(platform, clock)
    await stream.delta("planner", "Thinking")  # does not raise
    await stream.delta("planner", " more")
    assert await stream.take("planner") is None


async def test_a_team_whose_model_streams_shows_each_reply_once(tmp_path: Path) -> None:
    model = Crew()
    with ScriptedOpenAI(responder=model) as server:
        streaming = {"model": "gpt-4o-mini", "base_url": server.base_url, "api_key": "sk-test", "stream": True}
        async with crew_bot(server, tmp_path, models={"default": streaming}) as bot:
            await until_waiting(bot)
            posts = bot.platform.in_thread("t1")
            streams = bot.platform.streams
        bodies = server.bodies()
    assert authors(posts) == ["planner", "coder", "reviewer", "threadcrew"]
    # Each agent's reply was streamed into a message that became its stored reply (one post each).
    assert [s.persona.name for s in streams] == ["planner", "coder", "reviewer"]
    assert [s.id for s in streams] == [p.id for p in posts[:3]]
    assert all(p.message.key.startswith("tc-") for p in posts[:3])
    assert posts[0].text == "planner on 'chart the squares'"
    # The agents' calls streamed; the speaker selection did not (nothing to show of it).
    selecting = [str(b["messages"][0]["content"]).startswith("You direct") for b in bodies]
    assert [bool(b.get("stream")) for b in bodies] == [not s for s in selecting]
