"""Agents may ping only the people in the thread (the team's ``mentions`` policy), and links in
their text show where they go: the rendering functions, then a thread on the in-memory platform."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters import limit_mentions, show_link_targets
from bot.errors import TeamConfigError
from bot.team_config import load_team_config
from tests.bot.crew import Crew, crew_bot, in_thread, write_team
from tests.fakes.openai_server import ScriptedOpenAI

ZWSP = "\u200b"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("none", f"ask @{ZWSP}U1 and @{ZWSP}U999"),
        ("thread", f"ask <@U1> and @{ZWSP}U999"),
        ("any", "ask <@U1> and <@U999>"),
    ],
)
def test_the_policy_decides_who_may_be_pinged(policy: str, expected: str) -> None:
    assert limit_mentions("ask <@U1> and <@U999>", policy, {"U1"}) == expected  # type: ignore[arg-type]


def test_mention_forms_roles_and_code() -> None:
    text = "<@U999|bob> <@!42> <@&7> `<@U999>`\n```\n<@U999>\n```"
    assert limit_mentions(text, "thread", {"42"}) == f"@{ZWSP}bob <@!42> @{ZWSP}7 `<@U999>`\n```\n<@U999>\n```"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("see <https://evil.example/login|the docs>", "see the docs (https://evil.example/login)"),
        ("see [the docs](https://evil.example/x)", "see the docs (https://evil.example/x)"),
        ("<https://a.example|a.example>", "https://a.example"),
        ("[https://a.example/](https://a.example/)", "https://a.example/"),
        ("<mailto:a@b.example|write to us>", "write to us (mailto:a@b.example)"),
        ("![a chart](https://img.example/c.png)", "![a chart](https://img.example/c.png)"),
        ("`[x](https://in.code)` and x[0](1)", "`[x](https://in.code)` and x[0](1)"),
        ("```\n[x](https://in.block)\n```", "```\n[x](https://in.block)\n```"),
    ],
)
def test_links_show_their_target(text: str, shown: str) -> None:
    assert show_link_targets(text) == shown


def test_the_team_file_says_mentions_none_thread_or_any(tmp_path: Path) -> None:
    assert load_team_config(write_team(tmp_path / "a.yaml", "http://x/v1")).mentions == "thread"
    assert load_team_config(write_team(tmp_path / "b.yaml", "http://x/v1", mentions="any")).mentions == "any"
    with pytest.raises(TeamConfigError, match=r"mentions: Input should be 'none', 'thread' or 'any'"):
        load_team_config(write_team(tmp_path / "c.yaml", "http://x/v1", mentions="everyone"))


@pytest.fixture
def crew() -> Iterator[tuple[Crew, ScriptedOpenAI]]:
    model = Crew()
    with ScriptedOpenAI(responder=model) as server:
        yield model, server


SAID = "ask <@alice> and <@U999>, and read [the docs](https://evil.example/login)"


@pytest.mark.parametrize(
    ("policy", "shown"),
    [
        (None, f"ask <@alice> and @{ZWSP}U999, and read the docs (https://evil.example/login)"),
        ("none", f"ask @{ZWSP}alice and @{ZWSP}U999, and read the docs (https://evil.example/login)"),
        ("any", "ask <@alice> and <@U999>, and read the docs (https://evil.example/login)"),
    ],
)
async def test_an_agent_pings_only_people_in_the_thread_and_its_links_show_their_target(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, policy: str | None, shown: str
) -> None:
    model, server = crew
    model.say("planner", SAID)
    team = {"mentions": policy} if policy else {}
    async with crew_bot(server, tmp_path, **team) as bot:
        await bot.platform.mention("t1", "plan it")  # alice is in the thread; U999 is not
        await bot.platform.wait_for(in_thread("t1"))
        posts = bot.platform.in_thread("t1")
        stored = await bot.transcript("t1")
    assert posts[0].text == shown
    assert stored[1].content == SAID  # the transcript keeps what the agent said
