"""Links from the console to each conversation's thread on its platform: Slack (the workspace's
address asked of Slack once, then stored), Discord (made from the ids), the web thread (the
console's own page), and none for a platform that cannot link."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from adapters.slack import SlackPlatform
from bot.app import Bot
from bot.teams import TeamCatalog
from storage import Database
from tests.bot.crew import Crew, settings_for, write_team
from tests.bot.test_slack import ROOT_TS, SlackBot, mention
from tests.bot.webconsole.console import CONSOLE_SETTINGS, TOKEN, ConsoleClient, console_bot, signed_in
from tests.fakes.openai_server import ScriptedOpenAI
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackSender

_THREAD_LINK = re.compile(r'<a href="([^"]+)" class="thread-link"')


async def test_rows_and_transcripts_link_to_discord_and_web_threads_and_not_elsewhere(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with console_bot(server, tmp_path) as bot:
        stores = bot.db.stores.conversations
        discord = await stores.get_or_create("discord", "111", "222", "333", team="crew")
        web = await stores.get_or_create("web", "web", "web", "w1-abc", team="crew")
        memory = await stores.get_or_create("memory", "W1", "C1", "t9", team="crew")
        slack = await stores.get_or_create("slack", "T-UNKNOWN", "C1", "1700000000.000100", team="crew")
        async with signed_in(bot) as client:
            _, page, _ = await client.get("/")
            links = _THREAD_LINK.findall(page)
            assert sorted(links) == ["/console/web/w1-abc", "https://discord.com/channels/111/333"]
            _, transcript, _ = await client.get(f"/c/{discord.id}")
            assert 'id="thread-link"' in transcript
            assert 'href="https://discord.com/channels/111/333"' in transcript
            for cannot in (memory, slack):  # an in-memory thread; a Slack workspace nobody has asked about
                _, transcript, _ = await client.get(f"/c/{cannot.id}")
                assert 'id="thread-link"' not in transcript
            _, transcript, _ = await client.get(f"/c/{web.id}")
            assert 'href="/console/web/w1-abc"' in transcript


async def test_a_stored_slack_workspace_address_links_its_threads_from_any_process(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with console_bot(server, tmp_path) as bot:  # this process does not serve Slack
        await bot.db.stores.platform_state.put("slack", "workspace-url:T1", "https://acme.slack.com/")
        record = await bot.db.stores.conversations.get_or_create("slack", "T1", "C9", "1700000001.000200", team="crew")
        async with signed_in(bot) as client:
            _, page, _ = await client.get(f"/c/{record.id}")
        assert 'href="https://acme.slack.com/archives/C9/p1700000001000200"' in page


async def test_the_process_that_serves_slack_asks_for_the_workspace_address_once_and_stores_it(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    catalog = TeamCatalog()
    catalog.add_file(write_team(tmp_path / "crew.yaml", server.base_url), default=True)
    async with FakeSlack() as slack:
        platform = SlackPlatform(slack.http_config())
        settings = settings_for(tmp_path / "data", **CONSOLE_SETTINGS)
        bot = Bot(settings, platform, catalog)
        task = asyncio.create_task(bot.run())
        await asyncio.wait_for(platform.ready.wait(), 10)
        assert bot.web is not None
        sender = SlackSender(f"{bot.web.url}/slack/events")
        db = Database(settings.effective_database_url)
        try:
            await mention(SlackBot(slack, sender, db, bot), "chart the squares")
            await bot.started.wait()
            assert bot.dispatcher is not None
            await bot.dispatcher.wait_idle()
            asked_before = len(slack.calls_of("auth.test"))
            client = ConsoleClient(f"{bot.web.url}/console")
            try:
                assert (await client.sign_in("ops", TOKEN))[0] == 303
                expected = f"https://test.slack.invalid/archives/C1/p{ROOT_TS.replace('.', '')}"
                for _ in range(2):
                    _, page, _ = await client.get("/")
                    assert _THREAD_LINK.findall(page) == [expected]
            finally:
                await client.close()
            assert len(slack.calls_of("auth.test")) == asked_before + 1  # once, not per page
            assert await db.stores.platform_state.get("slack", "workspace-url:T1") == "https://test.slack.invalid/"
        finally:
            await sender.close()
            await db.close()
            await platform.close()
            await task
