"""Links from the console to each conversation's thread on its platform: Slack (the workspace's
address asked of Slack once, then stored), Discord (made from the ids), the web thread (the
console's own page), and none for a platform that cannot link."""

from __future__ import annotations

import re
from pathlib import Path

from tests.bot.crew import Crew, RunningBot
from tests.bot.test_slack import ROOT_TS, mention, slack_bot
from tests.bot.webconsole.console import CONSOLE_SETTINGS, TOKEN, ConsoleClient, console_bot, signed_in
from tests.fakes.openai_server import ScriptedOpenAI
from tests.fakes.slack_api import FakeSlack

_THREAD_LINK = re.compile(r'<a href="([^"]+)" class="thread-link"')
_TRANSCRIPT_LINK = re.compile(r'<a href="([^"]+)" id="thread-link"')


async def _transcript_link(bot: RunningBot, conversation_id: int) -> str | None:
    async with signed_in(bot) as client:
        status, page, _ = await client.get(f"/c/{conversation_id}")
    assert status == 200
    found = _TRANSCRIPT_LINK.search(page)
    return found.group(1) if found else None


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
        assert await _transcript_link(bot, discord.id) == "https://discord.com/channels/111/333"
        assert await _transcript_link(bot, web.id) == "/console/web/w1-abc"
        assert await _transcript_link(bot, memory.id) is None  # an in-memory thread
        assert await _transcript_link(bot, slack.id) is None  # a Slack workspace nobody has asked about


async def test_a_stored_slack_workspace_address_links_its_threads_from_any_process(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with console_bot(server, tmp_path) as bot:  # this process does not serve Slack
        await bot.db.stores.platform_state.put("slack", "workspace-url:T1", "https://acme.slack.com/")
        record = await bot.db.stores.conversations.get_or_create("slack", "T1", "C9", "1700000001.000200", team="crew")
        assert await _transcript_link(bot, record.id) == "https://acme.slack.com/archives/C9/p1700000001000200"


async def test_the_process_that_serves_slack_asks_for_the_workspace_address_once_and_stores_it(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path
) -> None:
    _, server = crew
    async with FakeSlack() as slack, slack_bot(slack, server, tmp_path, CONSOLE_SETTINGS) as bot:
        await mention(bot, "chart the squares")
        assert bot.bot.dispatcher is not None
        await bot.bot.dispatcher.wait_idle()
        assert bot.bot.web is not None
        client = ConsoleClient(f"{bot.bot.web.url}/console")
        try:
            assert (await client.sign_in("ops", TOKEN))[0] == 303
            expected = f"https://test.slack.invalid/archives/C1/p{ROOT_TS.replace('.', '')}"
            for _ in range(2):
                _, page, _ = await client.get("/")
                assert _THREAD_LINK.findall(page) == [expected]
        finally:
            await client.close()
        # Once in the process, not per page: the answer Bolt's authorization got serves the address too.
        assert len(slack.calls_of("auth.test")) == 1
        assert await bot.db.stores.platform_state.get("slack", "workspace-url:T1") == "https://test.slack.invalid/"
