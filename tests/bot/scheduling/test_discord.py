"""``/threadcrew schedule add|list|pause|resume|delete`` on Discord: the real discord.py client against
the fake Discord, the whole bot behind it; answers are ephemeral follow-ups of the interaction."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bot.crew import Crew
from tests.bot.test_discord import discord_bot
from tests.fakes.discord_api import BOT_ROLE, CHANNEL, OTHER_CHANNEL, PEOPLE, FakeDiscord, Interaction
from tests.fakes.openai_server import ScriptedOpenAI

SEND_MESSAGES = 1 << 11


@pytest.fixture
def server() -> Iterator[ScriptedOpenAI]:
    with ScriptedOpenAI(responder=Crew()) as server:
        yield server


async def answer_to(fake: FakeDiscord, typed: Interaction) -> str:
    """The private answer to ``typed`` (after Discord was told at once that the bot is thinking)."""
    await fake.wait_for(lambda f: any(r.get("followup") for r in typed.responses))
    assert typed.responses[0] == {"type": 5, "flags": 64}  # deferred, ephemeral
    return fake.private_to(typed.user_id)[-1].text


async def test_schedules_are_added_listed_and_refused_through_the_slash_command(
    server: ScriptedOpenAI, tmp_path: Path
) -> None:
    async with FakeDiscord() as fake, discord_bot(fake, server, tmp_path) as bot:
        typed = await fake.slash_group(
            CHANNEL,
            "alice",
            "schedule",
            "add",
            when="0 9 * * 1-5",
            name="standup",
            message='Summarise yesterday\'s work, "all of it"',
            channel=OTHER_CHANNEL,
            timezone="Europe/Paris",
        )
        added = await answer_to(fake, typed)
        assert added.startswith("Added: standup (on): 0 9 * * 1-5 (Europe/Paris), team crew, in discord 201, next ")
        row = await bot.db.stores.schedules.get("standup")
        assert (row.platform, row.workspace_id, row.channel_id, row.source) == ("discord", "100", OTHER_CHANNEL, "chat")
        assert row.message == 'Summarise yesterday\'s work, "all of it"'

        every = await fake.slash_group(CHANNEL, "bob", "schedule", "add", when="every 2h", name="digest", message="Hi")
        assert "digest (on): every 2h, team crew, in discord 200" in await answer_to(fake, every)
        listed = await answer_to(fake, await fake.slash_group(CHANNEL, "carol", "schedule", "list"))
        assert listed.startswith("• digest (on): every 2h")  # this channel's; standup's runs go to 201
        paused = await fake.slash_group(CHANNEL, "alice", "schedule", "pause", name="digest")
        assert await answer_to(fake, paused) == "Paused the schedule digest."

        bad = await fake.slash_group(CHANNEL, "bob", "schedule", "add", when="0 9 * *", name="x", message="hi")
        assert "Not done: '0 9 * *' is not a cron expression: write five fields" in await answer_to(fake, bad)
        fake.overwrites[OTHER_CHANNEL] = [{"id": BOT_ROLE, "type": 0, "allow": "0", "deny": str(SEND_MESSAGES)}]
        barred = await fake.slash_group(
            CHANNEL, "carol", "schedule", "add", when="every 1h", name="y", message="hi", channel=OTHER_CHANNEL
        )
        assert await answer_to(fake, barred) == (
            "Not done: I may not post in #channel-201: give threadcrew's role Send Messages there "
            "(Edit Channel > Permissions), then try again"
        )
        assert sorted(s.name for s in await bot.db.stores.schedules.list()) == ["digest", "standup"]
        assert not any(m.ephemeral_for is None and m.author_id != PEOPLE.get(m.username) for m in fake.messages)
