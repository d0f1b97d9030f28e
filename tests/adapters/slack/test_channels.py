"""Whether the bot can post in a Slack channel: ``conversations.info`` through the real client,
against the fake Slack Web API."""

from __future__ import annotations

from adapters import ChannelAccess
from adapters.slack import SlackConfig, SlackPlatform
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, FakeSlack


async def test_the_bot_may_post_only_where_it_is_a_member_and_is_told_how_to_be_invited() -> None:
    async with FakeSlack() as slack:
        config = SlackConfig(mode="socket", bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=slack.api_url)
        platform = SlackPlatform(config)
        slack.not_member.add("C8")
        slack.channel_names["C8"] = "eng"
        slack.unseen.add("G9")
        assert await platform.can_post_in("", "C1") == ChannelAccess(True)
        assert await platform.can_post_in("T1", "C8") == ChannelAccess(
            False, "I am not in #eng: invite me there with /invite @threadcrew (typed in #eng)"
        )
        hidden = await platform.can_post_in("T1", "G9")
        assert hidden.allowed is False
        assert hidden.reason.startswith("I cannot see a channel G9: check its id")
        assert "/invite @threadcrew" in hidden.reason
        # An app installed before threadcrew asked for channels:read cannot tell: it says how to fix that.
        slack.fail("conversations.info", "missing_scope")
        unknown = await platform.can_post_in("T1", "C8")
        assert unknown.allowed is None
        assert "add the channels:read and groups:read scopes to the Slack app" in unknown.reason
        slack.fail("conversations.info", "fatal_error")
        assert (await platform.can_post_in("T1", "C8")).allowed is None
        assert [c.params["channel"] for c in slack.calls_of("conversations.info")] == ["C1", "C8", "G9", "C8", "C8"]
        assert len(slack.calls_of("auth.test")) == 2  # the bot's name, once per workspace ("" and T1)
