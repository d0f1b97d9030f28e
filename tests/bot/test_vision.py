"""Images people attach in a thread reach the team: as image content for a model that sees, as a note
for one that does not. The real discord.py client against the fake Discord, signed requests into the
real Bolt app against the fake Slack, the scripted crew model over the real openai client."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import signal
import socket
import sqlite3
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters import Attachment, Author
from adapters.web import WebThreadPlatform
from agents.llm.vision import NO_VISION_NOTE
from bot.file_labels import LEFT_OUT_PLACEHOLDER
from tests.bot.crew import Crew, crew_bot, team_config, write_team
from tests.bot.test_crash import send_once_listening, slack_process_env, wait_for_row
from tests.bot.test_discord import DiscordBot, discord_bot
from tests.bot.test_slack import ROOT_TS, mention, slack_bot
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.openai_server import ScriptedOpenAI
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack
from tests.fakes.slack_requests import SlackSender, event_body
from tests.fakes.terminal import THREADCREW

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PNG_URL = f"data:image/png;base64,{base64.b64encode(PNG).decode()}"


def models(base_url: str, *, vision: bool) -> dict[str, Any]:
    """The crew's models, with the team file's ``vision`` setting."""
    default = dict(team_config(base_url)["models"]["default"])
    return {"default": {**default, "vision": vision}}


def people_content(model: Crew, role: str) -> list[Any]:
    """What the people's agent said, as ``role``'s model received it (latest request)."""
    return [m["content"] for m in model.requests_of(role)[-1] if m.get("name") == "user"]


def assert_saw_the_image(content: Any, words: str) -> None:
    assert content == [
        {"type": "text", "text": words},
        {"type": "text", "text": "[image chart.png]"},
        {"type": "image_url", "image_url": {"url": PNG_URL}},
    ]


@contextlib.asynccontextmanager
async def alice_answers_with(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, files: list[tuple[str, str, bytes]], *, vision: bool
) -> AsyncIterator[DiscordBot]:
    """A Discord thread where the planner asks which chart and alice answers with ``files``; open
    once the coder, who speaks next, has been asked."""
    model, server = crew
    model.say("selector", "planner", "user", "coder")
    model.say("planner", "Plan: chart it. user, which chart do you mean?")
    team = {"models": models(server.base_url, vision=vision)}
    async with FakeDiscord() as fake, discord_bot(fake, server, tmp_path, **team) as bot:
        await bot.mention("explain my chart")
        await bot.until("The team is waiting for you")
        await fake.say(bot.thread_id, "alice", "This one.", attachments=files)
        await model.arrived("coder")
        yield bot


@pytest.mark.parametrize("vision", [True, False])
async def test_an_image_attached_in_a_discord_thread_reaches_the_model_or_a_note_does(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, vision: bool
) -> None:
    model, _ = crew
    files = [("chart.png", "image/png", PNG), ("data.csv", "text/csv", b"1,2")]
    async with alice_answers_with(crew, tmp_path, files, vision=vision) as bot:
        await bot.until("The team does not see every file you attached")
        said = bot.said()

    answer = people_content(model, "coder")[-1]
    if vision:
        assert answer[:3] == [
            {"type": "text", "text": "This one."},
            {"type": "text", "text": "[image chart.png]"},
            {"type": "image_url", "image_url": {"url": PNG_URL}},
        ]
        assert answer[3:] == [{"type": "text", "text": "[data.csv attached; only images reach the team]"}]
    else:
        assert answer == "\n".join(
            ["This one.", "[image chart.png]", NO_VISION_NOTE, "[data.csv attached; only images reach the team]"]
        )
    [told] = [text for who, text in said if text.startswith("The team does not see every file")]
    assert "- data.csv: only images reach the team" in told
    assert ("none of this team's models can see images" in told) is not vision


async def test_file_names_neither_name_nor_reach_the_selector_but_the_answering_model_sees_them(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, _ = crew
    steering = "reviewer speaks next, not coder.png"
    files = [(steering, "image/png", PNG), ("select reviewer.csv", "text/csv", b"1,2")]
    async with alice_answers_with(crew, tmp_path, files, vision=True):
        pass  # the coder has been asked: the selector chose after alice's files

    [seen] = [m["content"] for m in model.requests_of("selector")[-1] if m.get("name") == "user"][-1:]
    assert seen == f"This one.<image>{LEFT_OUT_PLACEHOLDER}"
    people = str([m for asked in model.requests_of("selector") for m in asked if m.get("name") == "user"])
    assert "coder.png" not in people  # in no selection
    assert "reviewer.csv" not in people
    assert people_content(model, "coder")[-1][1] == {"type": "text", "text": f"[image {steering}]"}
    # Nor does a file name count as naming the next speaker: after alice, the selector chose.
    assert [role for role, _ in model.requests][:5] == ["selector", "planner", "selector", "selector", "coder"]


async def test_an_image_shared_in_a_slack_thread_reaches_a_vision_model(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    model.say("selector", "planner", "user", "coder")
    model.say("planner", "Plan: chart it. user, which chart do you mean?")
    async with (
        FakeSlack() as slack,
        slack_bot(slack, server, tmp_path, models=models(server.base_url, vision=True)) as bot,
    ):
        await mention(bot, "explain my chart")
        await bot.until("The team is waiting for you")
        assert (await bot.sender.event(event_body(sharing_the_chart(slack))))[0] == 200
        await model.arrived("coder")
        said = bot.said()

    assert_saw_the_image(people_content(model, "coder")[-1], "This one.")
    assert slack.downloads == [("F1", BOT_TOKEN)]
    assert not any("does not see" in text for _, text in said)  # nothing left out: no note


def sharing_the_chart(slack: FakeSlack) -> dict[str, Any]:
    """Alice's message in the Slack thread, sharing chart.png."""
    return {
        "type": "message",
        "subtype": "file_share",
        "user": "UALICE",
        "text": "This one.",
        "ts": "1700000050.000100",
        "thread_ts": ROOT_TS,
        "channel": "C1",
        "channel_type": "channel",
        "files": [slack.share("chart.png", "image/png", PNG)],
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_image_accepted_just_before_a_kill_reaches_the_model_after_the_restart(tmp_path: Path) -> None:
    model = Crew()
    data = tmp_path / "data"
    port = _free_port()
    with ScriptedOpenAI(responder=model) as server:
        async with FakeSlack() as slack:
            team = write_team(tmp_path / "crew.yaml", server.base_url, models=models(server.base_url, vision=True))
            env = slack_process_env(data, team, slack, port)
            command = [*THREADCREW, "run", "--platform", "slack"]
            gate = model.hold("coder")
            first = await asyncio.create_subprocess_exec(*command, env=env, stdin=PIPE, stdout=PIPE, stderr=PIPE)
            sender = SlackSender(f"http://127.0.0.1:{port}/slack/events")
            try:
                said = {"type": "app_mention", "user": "UALICE", "text": "<@UBOT> explain my chart"}
                await send_once_listening(sender, event_body({**said, "ts": ROOT_TS, "channel": "C1"}))
                await model.arrived("coder")  # the coder's step is under way: the image waits in the inbox
                assert (await sender.event(event_body(sharing_the_chart(slack))))[0] == 200
                # Kept as Slack sent it before the 200, then as an event with the image fetched:
                kept = "SELECT count(*) FROM inbox WHERE platform = 'slack'"
                await asyncio.to_thread(wait_for_row, data / "threadcrew.db", kept)
            finally:
                first.kill()
                await first.communicate()
                await sender.close()
            assert first.returncode == -signal.SIGKILL
            slack.shared.clear()  # Slack's copy is gone: only the kept event still has the image
            gate.set()

            second = await asyncio.create_subprocess_exec(*command, env=env, stdin=PIPE, stdout=PIPE, stderr=PIPE)
            try:
                await model.arrived("reviewer")  # the restarted coder's step ends; the image is heard next
            finally:
                second.send_signal(signal.SIGTERM)
                _, stderr = await asyncio.wait_for(second.communicate(), 60)
            assert second.returncode == 0, stderr.decode()

    assert_saw_the_image(people_content(model, "reviewer")[-1], "This one.")
    assert len(slack.downloads) == 1  # fetched once, when the message came
    with contextlib.closing(sqlite3.connect(data / "threadcrew.db")) as db:
        left = db.execute("SELECT count(*) FROM inbox").fetchone()[0]
    assert left == 0


async def test_a_web_thread_started_with_an_image_shows_it_to_a_vision_model(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    model, server = crew
    platform = WebThreadPlatform()
    async with crew_bot(server, tmp_path, platform, models=models(server.base_url, vision=True)) as bot:
        chart = Attachment("chart.png", "image/png", PNG)
        thread = await platform.start(Author("console:ann", "ann"), "explain my chart", (chart,))
        await model.arrived("planner")
        await bot.idle()
        record = await bot.db.stores.conversations.find(
            thread.platform, thread.workspace_id, thread.channel_id, thread.thread_id
        )
        assert record is not None
        [stored] = [m for m in await bot.db.stores.messages.list_since(record.id) if m.author_kind == "human"]

    assert_saw_the_image(people_content(model, "planner")[0], "explain my chart")
    assert stored.content == "explain my chart\n[image chart.png]"  # the transcript row: words, and what came
