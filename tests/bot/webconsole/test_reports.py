"""The console's usage, teams and schedules pages (plain HTTP, against the bot with a run done)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.bot.crew import Crew
from tests.bot.webconsole.console import between, console_bot, signed_in, waiting_run
from tests.fakes.openai_server import ScriptedOpenAI


async def test_usage_by_team_model_and_day(crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path) -> None:
    _, server = crew
    async with waiting_run(server, tmp_path) as (bot, _), signed_in(bot) as client:
        record = await bot.conversation("t1")
        assert record.prompt_tokens > 0
        status, html, _ = await client.get("/usage?since=last+day")
        assert status == 200
        team_table = html.split('id="usage-by-team"')[1].split("</table>")[0]
        assert "<td>crew</td>" in team_table
        assert f"{record.prompt_tokens:,}" in team_table
        assert "<td>gpt-4o-mini</td>" in html.split('id="usage-by-model"')[1].split("</table>")[0]
        today = bot.db.clock().strftime("%Y-%m-%d")
        assert f"<td>{today}</td>" in html.split('id="usage-by-day"')[1]


async def test_the_teams_page_shows_the_team_file_but_no_key(crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path) -> None:
    _, server = crew
    async with waiting_run(server, tmp_path) as (bot, _), signed_in(bot) as client:
        status, html, _ = await client.get("/teams")
        assert status == 200
        assert 'id="team-crew"' in html
        assert "Planner. You plan the work." in html
        assert "tests.bot.crew:word_count" in html
        assert "api_key: (set)" in html
        assert "sk-test-crew-0123" not in html


async def test_schedules_are_listed_paused_resumed_and_deleted(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with waiting_run(server, tmp_path) as (bot, _), signed_in(bot) as client:
        schedules = bot.db.stores.schedules
        await schedules.add(
            "daily", team="crew", platform="memory", workspace_id="W1", channel_id="C1", cron="0 9 * * *", message="go"
        )
        html = (await client.get("/schedules"))[1]
        assert "<td>daily</td>" in html
        assert "<td>0 9 * * * (UTC)</td>" in html
        assert re.search(r'class="next">\d{4}-\d\d-\d\d 09:00 UTC<', html)

        async def act(action: str) -> int:
            csrf = await client.csrf("/schedules")
            return (await client.post("/schedules/daily/act", {"csrf": csrf, "action": action}))[0]

        assert await act("pause") == 303
        assert not (await schedules.get("daily")).enabled
        assert 'class="next">paused<' in (await client.get("/schedules"))[1]
        assert await act("resume") == 303
        assert (await schedules.get("daily")).enabled
        assert await act("explode") == 400
        assert await act("delete") == 303
        assert await schedules.list() == []
        assert await act("delete") == 404
        await schedules.add(
            "often",
            team="crew",
            platform="memory",
            workspace_id="W1",
            channel_id="C1",
            every_seconds=1800,
            message="go",
        )
        assert "<td>every 30m</td>" in (await client.get("/schedules"))[1]


async def test_the_teams_page_checks_each_team_file_again_and_shows_what_is_wrong(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with console_bot(server, tmp_path) as bot, signed_in(bot) as client:
        html = (await client.get("/teams"))[1]
        assert "valid, as loaded." in between(html, 'id="file-crew"', "</p>")
        team_file = tmp_path / "crew.yaml"
        good = yaml.safe_load(team_file.read_text())
        team_file.write_text(yaml.safe_dump({**good, "agents": "<b>nobody</b>"}))
        html = (await client.get("/teams"))[1]
        assert "the bot would refuse it now" in html
        problem = between(html, 'id="problem-crew">', "</pre>")
        assert "agents" in problem
        assert "<b>" not in problem  # the file's words, escaped
        team_file.write_text(yaml.safe_dump({**good, "description": "a new description"}))
        html = (await client.get("/teams"))[1]
        assert "changed since start-up and valid: restart the bot to use it." in html
        assert 'id="problem-crew"' not in html
