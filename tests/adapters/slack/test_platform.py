"""The Slack adapter against the real Bolt app and slack-sdk client: signed requests in, a fake
Slack Web API (tests/fakes/slack_api.py) out."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore

import adapters.slack
from adapters import (
    Attachment,
    Button,
    NotInstalledError,
    OutboundMessage,
    Persona,
    PlatformError,
    ThreadEvent,
    ThreadRef,
)
from adapters.slack import BOT_SCOPES, SlackConfig, SlackPlatform
from adapters.slack.files import SlackFiles
from adapters.slack.intake import RequestInbox
from adapters.slack.names import UNNAMED_SECONDS
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.fakes.slack_requests import (
    SlackSender,
    action_payload,
    command_fields,
    event_body,
)
from tests.fakes.web import serving

THREAD = ThreadRef("slack", "T1", "C1", "1699999999.000100")
CODER = Persona("coder", "Coder", icon_emoji=":computer:")


@dataclass
class Running:
    slack: FakeSlack
    platform: SlackPlatform
    sender: SlackSender
    events: list[ThreadEvent] = field(default_factory=list)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    keeping_fails: bool = False  # the bot cannot keep events (its disk is full, say)

    async def wait_events(self, count: int, within: float = 10) -> list[ThreadEvent]:
        async with asyncio.timeout(within), self.arrived:
            await self.arrived.wait_for(lambda: len(self.events) >= count)
        return self.events


@asynccontextmanager
async def slack_app(
    *, requests: RequestInbox | None = None, socket: bool = False, **config: Any
) -> AsyncIterator[Running]:
    """The platform in HTTP mode on a free port (or in Socket Mode, connected), talking to a fresh
    fake Slack (keeping Slack's events in ``requests`` before answering, if given)."""
    async with FakeSlack() as slack:
        settings = slack.socket_config(**config) if socket else slack.http_config(**config)
        platform = SlackPlatform(settings, requests=requests)
        running = Running(slack, platform, SlackSender(""))

        async def collect(event: ThreadEvent) -> None:
            if running.keeping_fails:
                raise OSError(28, "No space left on device")
            async with running.arrived:
                running.events.append(event)
                running.arrived.notify_all()

        async with serving(platform.routes()) as base:
            task = asyncio.create_task(platform.run(collect))
            await asyncio.wait_for(platform.ready.wait(), 10)
            if socket:
                await slack.wait_for_socket()
            running.sender.url = f"{base}/slack/events"
            try:
                yield running
            finally:
                await running.sender.close()
                await platform.close()
                await task
            await platform.app.client.session.close() if platform.app.client.session else None


def mention(text: str, ts: str = "1700000000.000200", thread_ts: str | None = None, user: str = "UALICE") -> dict:
    event = {"type": "app_mention", "user": user, "text": text, "ts": ts, "channel": "C1", "event_ts": ts}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message(text: str, ts: str, thread_ts: str | None = None, **extra: Any) -> dict:
    event = {"type": "message", "user": "UBOB", "text": text, "ts": ts, "channel": "C1", "channel_type": "channel"}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return {**event, **extra}


# -- in: requests Slack sends -------------------------------------------------------------------------------


async def test_a_signed_mention_becomes_a_mention_event_of_its_thread() -> None:
    async with slack_app() as app:
        status, _ = await app.sender.event(event_body(mention("<@UBOT>  chart the squares", ts="1700000000.1")))
        assert status == 200
        [event] = await app.wait_events(1)
    assert event.kind == "mention"
    assert event.thread == ThreadRef("slack", "T1", "C1", "1700000000.1")  # a new thread: its first message
    assert (event.text, event.message_id) == ("chart the squares", "1700000000.1")
    assert (event.author.id, event.author.display_name) == ("UALICE", "alice")  # from users.info


async def test_slack_is_answered_only_once_the_bot_has_the_event_and_with_an_error_when_it_cannot_keep_it() -> None:
    async with slack_app() as app:
        status, _ = await app.sender.event(event_body(mention("<@UBOT> chart it", ts="1700000000.1")))
        assert status == 200
        assert [e.text for e in app.events] == ["chart it"]  # handed over before the answer, not after
        app.keeping_fails = True
        status, _ = await app.sender.event(event_body(mention("<@UBOT> and this", ts="1700000000.2")))
        assert status >= 500  # so Slack sends it again
        assert [e.text for e in app.events] == ["chart it"]


async def test_a_burst_of_mentions_asks_who_the_bot_is_once_and_each_persons_name_once() -> None:
    # Slack waits on these calls for its answer: one each per burst, not one each per mention.
    async with slack_app() as app:
        bodies = [
            event_body(mention(f"<@UBOT> task {i}", ts=f"1700000000.{i + 1}", user=("UALICE", "UBOB")[i % 2]))
            for i in range(20)
        ]
        answers = await asyncio.gather(*(app.sender.event(body) for body in bodies))
        events = await app.wait_events(20)
    assert [status for status, _ in answers] == [200] * 20
    assert len(app.slack.calls_of("auth.test")) == 1
    assert sorted(c.params["user"] for c in app.slack.calls_of("users.info")) == ["UALICE", "UBOB"]
    assert {e.author.display_name for e in events} == {"alice", "bob"}


async def test_a_person_slack_will_not_name_is_shown_by_id_and_not_asked_for_again_at_each_message() -> None:
    async with slack_app() as app:
        app.slack.fail("users.info", "user_not_found")
        for i in range(3):
            status, _ = await app.sender.event(event_body(mention(f"<@UBOT> task {i}", ts=f"1700000000.{i + 1}")))
            assert status == 200
        events = await app.wait_events(3)
    assert [e.author.display_name for e in events] == ["UALICE"] * 3
    assert len(app.slack.calls_of("users.info")) == 1


async def test_a_person_slack_would_not_name_is_asked_for_again_after_ten_minutes() -> None:
    async with slack_app() as app:
        now = [1_000.0]
        app.platform.names.clock = lambda: now[0]
        app.slack.fail("users.info", "user_not_found")  # once: Slack would name them now
        shown = []
        for i, later in enumerate((0.0, UNNAMED_SECONDS - 1, 1.0)):
            now[0] += later
            assert (await app.sender.event(event_body(mention(f"<@UBOT> task {i}", ts=f"1700000000.{i + 1}"))))[
                0
            ] == 200
            shown.append((await app.wait_events(i + 1))[-1].author.display_name)
    assert shown == ["UALICE", "UALICE", "alice"]
    assert len(app.slack.calls_of("users.info")) == 2


async def test_the_bot_asks_who_it_is_before_it_takes_slacks_first_event() -> None:
    # Asked during a burst, every event of the burst would wait for the answer.
    async with slack_app() as app:
        assert len(app.slack.calls_of("auth.test")) == 1  # before the platform was ready
        status, _ = await app.sender.event(event_body(mention("<@UBOT> chart it", ts="1700000000.1")))
        [event] = await app.wait_events(1)
    assert (status, event.text) == (200, "chart it")
    assert len(app.slack.calls_of("auth.test")) == 1


async def test_one_bot_token_is_not_reported_as_ignored_and_posts(caplog: pytest.LogCaptureFixture) -> None:
    # Bolt warns that a client's token "will be ignored" beside authorize: an operator would
    # read it as their token not being used, while the bot posts with it.
    async with slack_app() as app:
        await app.platform.post(THREAD, OutboundMessage(CODER, "hello"))
    assert "will be ignored" not in caplog.text
    posts = app.slack.calls_of("chat.postMessage")
    assert [(c.params.get("text"), c.token) for c in posts] == [("Coder: hello", BOT_TOKEN)]


async def test_when_slack_does_not_say_who_the_bot_is_at_the_start_its_first_event_asks_again() -> None:
    async with FakeSlack() as slack:
        slack.fail("auth.test", "fatal_error")
        platform = SlackPlatform(slack.http_config())
        events: list[ThreadEvent] = []

        async def keep(event: ThreadEvent) -> None:
            events.append(event)

        async with serving(platform.routes()) as base:
            task = asyncio.create_task(platform.run(keep))
            await asyncio.wait_for(platform.ready.wait(), 10)  # ready all the same
            sender = SlackSender(f"{base}/slack/events")
            status, _ = await sender.event(event_body(mention("<@UBOT> chart it")))
            await sender.close()
            await platform.close()
            await task
    assert (status, [e.text for e in events]) == (200, ["chart it"])
    assert len(slack.calls_of("auth.test")) == 2


async def test_requests_with_a_bad_signature_or_an_old_timestamp_are_refused() -> None:
    async with slack_app() as app:
        body = json.dumps(event_body(mention("<@UBOT> hi")))
        bad, _ = await app.sender.send(body, "application/json", signature="v0=" + "0" * 64)
        stale, _ = await app.sender.send(body, "application/json", timestamp=int(time.time()) - 6 * 60)
        assert (bad, stale) == (401, 401)
        challenge = {"type": "url_verification", "challenge": "abc123", "token": "t"}
        status, text = await app.sender.event(challenge)
        assert (status, json.loads(text)) == (200, {"challenge": "abc123"})
        assert app.events == []


async def test_thread_replies_direct_messages_and_bot_posts() -> None:
    async with slack_app() as app:
        sent = [
            message("in the thread", "1700000000.3", thread_ts="1700000000.1"),
            message("<@UBOT> please go on", "1700000000.4", thread_ts="1700000000.1"),
            {**message("hi bot", "1700000000.5"), "channel": "D1", "channel_type": "im"},
            message("edited", "1700000000.6", thread_ts="1700000000.1", subtype="message_changed"),
            message("from another bot", "1700000000.7", thread_ts="1700000000.1", bot_id="BOTHER"),
            {**message("our own post", "1700000000.8", thread_ts="1700000000.1"), "user": "UBOT", "bot_id": "BBOT"},
            message("the last one", "1700000000.9", thread_ts="1700000000.1"),
        ]
        for event in sent:
            assert (await app.sender.event(event_body(event)))[0] == 200
        # Ignored events are dropped before the listener awaits anything, so by the time the
        # last one (sent last) is in, any of them that got through would be in too.
        events = sorted(await app.wait_events(4), key=lambda e: e.message_id or "")
    assert [(e.kind, e.text, e.thread.thread_id) for e in events] == [
        ("message", "in the thread", "1700000000.1"),
        ("mention", "please go on", "1700000000.1"),
        ("mention", "hi bot", "1700000000.5"),  # a direct message is said to the bot
        ("message", "the last one", "1700000000.1"),
    ]


async def test_images_people_share_are_fetched_with_the_bot_token_and_other_files_named() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    async with slack_app() as app:
        chart = app.slack.share("chart.png", "image/png", png)
        notes = app.slack.share("notes.txt", "text/plain", b"hello")
        elsewhere = {**app.slack.share("x.png", "image/png", png), "url_private_download": "https://evil.invalid/x.png"}
        event = message("look", "1700000000.3", thread_ts="1700000000.1", subtype="file_share")
        event["files"] = [chart, notes, elsewhere]
        assert (await app.sender.event(event_body(event)))[0] == 200
        [got] = await app.wait_events(1)
    assert [(a.name, a.mime_type, a.data) for a in got.attachments] == [("chart.png", "image/png", png)]
    assert [(f.name, f.reason) for f in got.skipped] == [("notes.txt", "not_image"), ("x.png", "unreadable")]
    assert app.slack.downloads == [(chart["id"], BOT_TOKEN)]  # the token never left for another host


async def test_a_mention_with_an_image_sent_twice_fetches_it_once_and_both_copies_carry_it() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    async with slack_app() as app:
        chart, table = (app.slack.share(name, "image/png", png) for name in ("chart.png", "table.png"))
        together = message("<@UBOT> explain my chart", "1700000000.3", subtype="file_share", files=[chart])
        one_after = message("<@UBOT> and this", "1700000000.4", subtype="file_share", files=[table])
        answers = await asyncio.gather(
            *(app.sender.event(event_body(copy)) for copy in ({**together, "type": "app_mention"}, together))
        )
        for copy in ({**one_after, "type": "app_mention"}, one_after):  # the second once the first is answered
            answers.append(await app.sender.event(event_body(copy)))
        events = await app.wait_events(4)
    assert [status for status, _ in answers] == [200] * 4
    assert [[a.data for a in e.attachments] for e in events] == [[png]] * 4  # each copy kept with its image
    assert app.slack.downloads == [(chart["id"], BOT_TOKEN), (table["id"], BOT_TOKEN)]


async def test_a_copy_after_the_kept_fetch_expired_fetches_again_and_only_mentions_are_kept() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    now = [0.0]
    async with FakeSlack() as slack:
        files = SlackFiles(slack.api_url, max_bytes=1000, max_count=4, keep=60, clock=lambda: now[0])
        said = message("<@UBOT> explain my chart", "1700000000.3", files=[slack.share("chart.png", "image/png", png)])
        first, _ = await files.images(said, BOT_TOKEN)
        now[0] = 61.0
        second, _ = await files.images(said, BOT_TOKEN)
        third, _ = await files.images(said, BOT_TOKEN)  # the second fetch serves this copy
        assert len(slack.downloads) == 2
        plain = message("look", "1700000000.5", files=[slack.share("a.png", "image/png", png)])
        for _ in range(2):  # a message without a mention comes once: its images are not kept
            await files.images(plain, BOT_TOKEN)
    assert [a.data for a in (*first, *second, *third)] == [png] * 3
    assert len(slack.downloads) == 4


async def test_without_files_read_slack_answers_its_sign_in_page_and_the_image_is_named_unreadable() -> None:
    async with slack_app(bot_token="xoxb-not-granted") as app:
        event = message("look", "1700000000.3", thread_ts="1700000000.1", subtype="file_share")
        event["files"] = [app.slack.share("chart.png", "image/png", b"\x89PNG\r\n\x1a\n")]
        assert (await app.sender.event(event_body(event)))[0] == 200
        [got] = await app.wait_events(1)
    assert got.attachments == ()
    assert [(f.name, f.reason) for f in got.skipped] == [("chart.png", "unreadable")]


async def test_a_button_press_and_a_slash_command_are_acknowledged_and_delivered() -> None:
    async with slack_app() as app:
        payload = action_payload(
            "tc.approve.0", "approve", user="UBOB", channel="C1", message_ts="1700000001.1", thread_ts="1700000000.1"
        )
        pressed, _ = await app.sender.action(payload)
        commanded, _ = await app.sender.command(command_fields("stop 1700000000.1", user="UCAROL", channel="C1"))
        assert (pressed, commanded) == (200, 200)
        button, command = await app.wait_events(2)
    assert (button.kind, button.action_id, button.value) == ("button", "approve", "approve")
    assert (button.thread.thread_id, button.ref_message_id, button.author.display_name) == (
        "1700000000.1",
        "1700000001.1",
        "bob",
    )
    assert (command.kind, command.command, command.text, command.thread.thread_id) == (
        "command",
        "stop",
        "1700000000.1",
        "",
    )


async def test_outside_the_allowed_channels_the_bot_says_so_privately_and_does_nothing() -> None:
    async with slack_app(allowed_channels=frozenset({"C2"})) as app:
        await app.sender.event(event_body(mention("<@UBOT> hi")))
        await app.slack.wait_for(lambda s: bool(s.calls_of("chat.postEphemeral")))
    [told] = app.slack.calls_of("chat.postEphemeral")
    assert (told.params["user"], told.params["text"]) == ("UALICE", "threadcrew is not enabled in this channel.")
    assert app.events == []


# -- out: what the bot posts --------------------------------------------------------------------------------


async def test_an_agent_posts_under_its_persona_with_its_key_and_buttons() -> None:
    async with slack_app() as app:
        buttons = (Button("Approve", "approve", "approve", "primary"), Button("Reject", "reject", "reject", "danger"))
        ts = await app.platform.post(THREAD, OutboundMessage(CODER, "Run it? @channel", key="tc-7", buttons=buttons))
    [posted] = app.slack.posted
    assert posted.ts == ts
    assert (posted.channel, posted.thread_ts) == ("C1", "1699999999.000100")
    assert (posted.username, posted.icon_emoji) == ("Coder", ":computer:")
    assert posted.metadata == {"event_type": "threadcrew_post", "event_payload": {"key": "tc-7"}}
    markdown, actions = posted.blocks
    assert markdown == {"type": "markdown", "text": "Run it? @\u200bchannel"}  # no mass mention
    assert [(e["action_id"], e["value"], e.get("style")) for e in actions["elements"]] == [
        ("tc.approve.0", "approve", "primary"),
        ("tc.reject.1", "reject", "danger"),
    ]
    [call] = app.slack.calls_of("chat.postMessage")
    assert call.token == BOT_TOKEN


async def test_without_the_customize_scope_agents_post_with_their_name_in_bold_and_it_is_remembered() -> None:
    async with slack_app() as app:
        app.slack.customize_scope = False
        await app.platform.post(THREAD, OutboundMessage(CODER, "first"))
        await app.platform.post(THREAD, OutboundMessage(CODER, "second"))
    assert [p.blocks[0]["text"] for p in app.slack.posted] == ["**Coder:** first", "**Coder:** second"]
    assert all(p.username is None for p in app.slack.posted)
    assert len(app.slack.calls_of("chat.postMessage")) == 3  # one refused, then no persona asked for again


async def test_files_and_overlong_text_are_uploaded_into_the_thread() -> None:
    long_output = "```\n" + "x = 1\n" * 3000 + "```"  # 18,000 characters
    async with slack_app() as app:
        png = Attachment("plot.png", "image/png", b"\x89PNG\r\n\x1a\n-not-really")
        await app.platform.post(THREAD, OutboundMessage(CODER, "Here is the plot", key="tc-8", attachments=(png,)))
        await app.platform.post(THREAD, OutboundMessage(CODER, long_output, key="tc-9"))
    _, plot, long_post, long_file = app.slack.posted
    assert (plot.thread_ts, [f["filename"] for f in plot.files]) == ("1699999999.000100", ["plot.png"])
    assert plot.files[0]["data"] == png.data
    shown = long_post.blocks[0]["text"]
    assert len(shown) < 3_200
    assert shown.endswith("_(the whole message, 18,007 characters, is in the file below)_")
    assert shown.count("```") % 2 == 0  # the cut code block is closed
    assert long_file.files[0]["data"].decode() == long_output


async def test_rate_limited_posts_are_retried_in_order() -> None:
    async with slack_app() as app:
        app.slack.rate_limit("chat.postMessage", times=2)
        for text in ("one", "two", "three"):
            await app.platform.post(THREAD, OutboundMessage(CODER, text))
    assert [p.blocks[0]["text"] for p in app.slack.posted] == ["one", "two", "three"]
    assert len(app.slack.calls_of("chat.postMessage")) == 5


async def test_a_posted_message_is_found_by_its_key_and_can_be_updated() -> None:
    async with slack_app() as app:
        ts = await app.platform.post(THREAD, OutboundMessage(CODER, "Run it?", key="tc-10"))
        assert await app.platform.find_posted(THREAD, "tc-10") == ts
        assert await app.platform.find_posted(THREAD, "tc-11") is None
        await app.platform.update(THREAD, ts, OutboundMessage(CODER, "Run it?\n\nApproved by bob."))
        secret = await app.platform.post(THREAD, OutboundMessage(CODER, "only for you", ephemeral_for="UBOB"))
    updated, ephemeral = app.slack.posted
    assert (updated.blocks, updated.edits) == ([{"type": "markdown", "text": "Run it?\n\nApproved by bob."}], 1)
    assert (ephemeral.ts, ephemeral.ephemeral_for, ephemeral.thread_ts) == (secret, "UBOB", "1699999999.000100")


@pytest.mark.parametrize("assistant", [True, False], ids=["assistant-thread", "reaction"])
async def test_the_working_status_is_shown_and_cleaned_up(assistant: bool) -> None:
    async with slack_app() as app:
        app.slack.assistant_threads = assistant
        await app.platform.set_status(THREAD, "is working…")
        await app.platform.set_status(THREAD, "is working…")  # already shown: no call
        await app.platform.set_status(THREAD, None)
    calls = [
        (c.method, c.params.get("status", c.params.get("name"))) for c in app.slack.calls if c.method != "auth.test"
    ]
    if assistant:
        assert calls == [("assistant.threads.setStatus", "is working…"), ("assistant.threads.setStatus", "")]
    else:
        assert calls == [
            ("assistant.threads.setStatus", "is working…"),  # refused: not an assistant thread
            ("reactions.add", "hourglass_flowing_sand"),
            ("reactions.remove", "hourglass_flowing_sand"),
        ]


# -- Socket Mode ----------------------------------------------------------------------------------------------


async def test_socket_mode_receives_envelopes_and_acknowledges_each() -> None:
    async with FakeSlack() as slack:
        config = SlackConfig(mode="socket", bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=slack.api_url)
        platform = SlackPlatform(config)
        events: list[ThreadEvent] = []
        arrived = asyncio.Event()

        async def collect(event: ThreadEvent) -> None:
            events.append(event)
            if len(events) == 2:
                arrived.set()

        task = asyncio.create_task(platform.run(collect))
        try:
            await asyncio.wait_for(platform.ready.wait(), 10)
            await slack.wait_for_socket()
            [opened] = slack.calls_of("apps.connections.open")
            assert opened.token == APP_TOKEN
            await slack.socket_send(
                {
                    "envelope_id": "env-1",
                    "type": "events_api",
                    "accepts_response_payload": False,
                    "payload": event_body(mention("<@UBOT> over the socket")),
                }
            )
            pressed = action_payload(
                "tc.continue.0", "", user="UBOB", channel="C1", message_ts="1700000001.1", thread_ts="1700000000.1"
            )
            await slack.socket_send(
                {"envelope_id": "env-2", "type": "interactive", "accepts_response_payload": True, "payload": pressed}
            )
            await asyncio.wait_for(arrived.wait(), 10)
            await slack.wait_for(lambda s: len(s.socket_acks) >= 2)
        finally:
            await platform.close()
            await task
    assert [(e.kind, e.text or e.action_id) for e in events] == [("mention", "over the socket"), ("button", "continue")]
    assert sorted(a["envelope_id"] for a in slack.socket_acks) == ["env-1", "env-2"]


async def test_socket_mode_acknowledges_an_envelope_only_once_the_bot_has_kept_its_event() -> None:
    async with FakeSlack() as slack:
        config = SlackConfig(mode="socket", bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=slack.api_url)
        platform = SlackPlatform(config)
        acked_when_handed: dict[str, list[str]] = {}
        handed = asyncio.Condition()

        async def keep(event: ThreadEvent) -> None:
            async with handed:
                acked_when_handed[event.text] = [a["envelope_id"] for a in slack.socket_acks]
                handed.notify_all()
            if event.text == "cannot keep this":
                raise OSError(28, "No space left on device")  # the bot's disk is full, say

        async def send(envelope_id: str, text: str) -> None:
            body = event_body(mention(f"<@UBOT> {text}", ts=f"1700000000.{len(acked_when_handed) + 1}"))
            envelope = {"envelope_id": envelope_id, "type": "events_api", "accepts_response_payload": False}
            await slack.socket_send({**envelope, "payload": body})
            async with asyncio.timeout(10), handed:
                await handed.wait_for(lambda: text in acked_when_handed)

        task = asyncio.create_task(platform.run(keep))
        try:
            await asyncio.wait_for(platform.ready.wait(), 10)
            await slack.wait_for_socket()
            await send("env-lost", "cannot keep this")
            await send("env-kept", "keep this")
            await slack.wait_for(lambda s: any(a["envelope_id"] == "env-kept" for a in s.socket_acks))
        finally:
            await platform.close()
            await task
    assert acked_when_handed == {"cannot keep this": [], "keep this": []}  # nothing acknowledged before it was kept
    assert [a["envelope_id"] for a in slack.socket_acks] == ["env-kept"]  # Slack sends the other again


@pytest.mark.parametrize("mode", ["socket", "http"])
def test_the_app_manifest_asks_for_what_the_adapter_uses(mode: str) -> None:
    manifest = yaml.safe_load((Path(adapters.slack.__file__).parent / "manifests" / f"{mode}.yaml").read_text())
    assert manifest["oauth_config"]["scopes"]["bot"] == BOT_SCOPES
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == [SlackConfig().command]
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is (mode == "socket")
    assert settings["interactivity"]["is_enabled"] is True
    assert {"app_mention", "message.channels", "message.im"} <= set(settings["event_subscriptions"]["bot_events"])
    if mode == "http":
        assert settings["event_subscriptions"]["request_url"].endswith(SlackConfig().http_path)
        assert manifest["oauth_config"]["redirect_urls"][0].endswith(SlackConfig().redirect_path)


async def test_slack_refusals_are_platform_errors_with_slacks_code() -> None:
    async with slack_app(retries=1) as app:
        app.slack.fail("chat.postMessage", "channel_not_found")
        with pytest.raises(PlatformError, match="Slack refused a post: channel_not_found") as refused:
            await app.platform.post(THREAD, OutboundMessage(CODER, "hello"))
        assert (refused.value.code, refused.value.status) == ("channel_not_found", 200)
        app.slack.rate_limit("chat.update", times=2)  # more than the client retries
        with pytest.raises(PlatformError) as limited:
            await app.platform.update(THREAD, "1.2", OutboundMessage(CODER, "x"))
        assert (limited.value.code, limited.value.status, limited.value.retry_after) == ("ratelimited", 429, 0.0)


async def test_a_workspace_without_an_installation_is_named() -> None:
    async with FakeSlack() as slack:
        config = slack.http_config(bot_token=None, client_id="1.2", client_secret="s")
        platform = SlackPlatform(config, installation_store=EmptyInstallations())
        with pytest.raises(NotInstalledError, match="threadcrew is not installed in Slack workspace T9"):
            await platform.post(ThreadRef("slack", "T9", "C1", "1.1"), OutboundMessage(CODER, "hi"))


class EmptyInstallations(AsyncInstallationStore):
    """No workspace has installed the app."""

    async def async_save(self, installation: Any) -> None:
        raise NotImplementedError

    async def async_find_bot(self, **kwargs: Any) -> None:
        return None

    async def async_find_installation(self, **kwargs: Any) -> None:
        return None
