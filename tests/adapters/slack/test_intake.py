"""Slack's events in HTTP mode kept before Slack's answer, and handed to Bolt after it: the real
Bolt app and slack-sdk client, signed requests in, the fake Slack Web API out."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from adapters.slack import SlackPlatform
from tests.adapters.slack.test_platform import Running, mention, message, slack_app
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackSender, event_body
from tests.fakes.web import serving


class Kept:
    """A RequestInbox in memory, as the bot's inbox would keep them (each key once)."""

    def __init__(self) -> None:
        self.rows: dict[int, Any] = {}
        self.keys: set[str] = set()
        self.failing = False  # keeping fails (the bot's disk is full, say)
        self.refused = asyncio.Event()  # set once keeping has failed
        self._ids = iter(range(1, 1_000_000))

    async def keep(self, key: str, payload: Any) -> int | None:
        if self.failing:
            self.refused.set()
            raise OSError(28, "No space left on device")
        if key in self.keys:
            return None
        self.keys.add(key)
        kept_id = next(self._ids)
        self.rows[kept_id] = payload
        return kept_id

    async def pending(self) -> list[tuple[int, Any]]:
        return sorted(self.rows.items())

    async def done(self, kept_id: int) -> None:
        self.rows.pop(kept_id, None)


async def test_slack_hears_200_once_the_event_is_kept_before_the_bot_has_it_and_it_follows() -> None:
    kept = Kept()
    async with slack_app(requests=kept) as app:
        names = app.slack.hold("users.info")  # Slack's API slow to say who wrote it
        status, _ = await app.sender.event(event_body(mention("<@UBOT> chart it", ts="1700000000.1")))
        assert status == 200
        assert app.events == []  # answered before the bot had it...
        assert len(kept.rows) == 1  # ...and kept
        names.set()
        [event] = await app.wait_events(1)
        await until_idle(app.platform)
    assert (event.text, event.author.display_name) == ("chart it", "alice")
    assert kept.rows == {}  # handed over: forgotten


async def test_an_event_that_cannot_be_kept_gets_an_error_and_slacks_retries_are_handed_over_once() -> None:
    kept = Kept()
    async with slack_app(requests=kept) as app:
        body = event_body(mention("<@UBOT> chart it", ts="1700000000.1"))
        kept.failing = True
        status, _ = await app.sender.event(body)
        assert status == 500  # so Slack sends it again
        kept.failing = False
        assert (await app.sender.event(body, retry=1))[0] == 200
        assert (await app.sender.event(body, retry=2))[0] == 200  # a retry of a kept event
        await app.wait_events(1)
        await until_idle(app.platform)
    assert [e.text for e in app.events] == ["chart it"]
    assert kept.keys == {body["event_id"]}


async def test_a_kept_event_the_bot_could_not_take_is_handed_over_again_once_it_is_stale() -> None:
    kept = Kept()
    async with slack_app(requests=kept) as app:
        await kept_and_not_taken(app, kept)
        app.keeping_fails = False
        intake = app.platform.intake
        assert intake is not None
        assert await intake.retry_stale() == 0  # not stale yet: it may be on its way in another process
        intake.clock = lambda: time.time() + intake.retry_after
        assert await intake.retry_stale() == 1
        [event] = await app.wait_events(1)
        await until_idle(app.platform)
    assert event.text == "chart it"
    assert kept.rows == {}


async def test_a_kept_event_that_keeps_failing_waits_twice_as_long_each_time_up_to_an_hour() -> None:
    kept = Kept()
    async with slack_app(requests=kept) as app:
        intake = app.platform.intake
        assert intake is not None
        now = [time.time()]
        intake.clock = lambda: now[0]
        await kept_and_not_taken(app, kept)  # the first hand-over failed: the next in a minute
        waits = []
        for _ in range(8):
            before = now[0]
            for step in (30.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 3600.0):  # the first moment it is due
                now[0] = before + step
                if await intake.retry_stale():
                    break
            await until_idle(app.platform)
            waits.append(now[0] - before)
        assert waits == [60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 3600.0, 3600.0]
        app.keeping_fails = False  # the bot can take it again
        now[0] += 3600.0
        assert await intake.retry_stale() == 1
        [event] = await app.wait_events(1)
        await until_idle(app.platform)
    assert event.text == "chart it"
    assert kept.rows == {}


async def test_a_restarted_platform_hands_over_what_the_last_one_kept_and_did_not() -> None:
    kept = Kept()
    async with slack_app(requests=kept) as app:
        await kept_and_not_taken(app, kept)
    async with slack_app(requests=kept) as app:  # the next start, before it is ready
        [event] = await app.wait_events(1)
        await until_idle(app.platform)
    assert event.text == "chart it"
    assert kept.rows == {}


async def test_a_threads_events_are_handed_over_in_the_order_slack_sent_them() -> None:
    kept = Kept()
    async with slack_app(requests=kept) as app:
        alice = app.slack.hold("users.info", user="UALICE")  # the first one's author is slow to look up
        first = event_body(mention("<@UBOT> chart it", ts="1700000000.1"))
        second = event_body(message("and the cubes", ts="1700000000.2", thread_ts="1700000000.1"))
        assert (await app.sender.event(first))[0] == 200
        assert (await app.sender.event(second))[0] == 200
        early, _ = await asyncio.wait([asyncio.create_task(app.wait_events(1))], timeout=0.5)
        assert not early  # the second waits for the first
        alice.set()
        events = await app.wait_events(2)
    assert [e.text for e in events] == ["chart it", "and the cubes"]
    assert [c.params["user"] for c in app.slack.calls_of("users.info")] == ["UALICE", "UBOB"]


async def test_closing_waits_for_the_hand_overs_under_way_and_their_threads_next_ones() -> None:
    kept = Kept()
    async with FakeSlack() as slack:
        platform = SlackPlatform(slack.http_config(), requests=kept)
        delivered: list[str] = []

        async def keep(event: Any) -> None:
            delivered.append(event.text)

        async with serving(platform.routes()) as base:
            task = asyncio.create_task(platform.run(keep))
            await asyncio.wait_for(platform.ready.wait(), 10)
            sender = SlackSender(f"{base}/slack/events")
            names = slack.hold("users.info")
            assert (await sender.event(event_body(mention("<@UBOT> chart it", ts="1700000000.1"))))[0] == 200
            second = message("and the cubes", ts="1700000000.2", thread_ts="1700000000.1")
            assert (await sender.event(event_body(second)))[0] == 200
            await sender.close()
            await slack.wait_for(lambda s: bool(s.calls_of("users.info")))
            await platform.close()
            done, _ = await asyncio.wait([task], timeout=0.2)
            assert not done  # waiting for the hand-over under way
            names.set()
            await asyncio.wait_for(task, 10)
            assert delivered == ["chart it", "and the cubes"]  # both, before the platform closed
    assert kept.rows == {}


# -- Socket Mode: the ack is the answer -------------------------------------------------------------------


async def test_in_socket_mode_an_envelope_is_acked_once_kept_before_the_bot_has_it_and_it_follows() -> None:
    kept = Kept()
    async with slack_app(requests=kept, socket=True) as app:
        names = app.slack.hold("users.info")  # Slack's API slow to say who wrote it
        await app.slack.socket_send(envelope("env-1", event_body(mention("<@UBOT> chart it", ts="1700000000.1"))))
        await app.slack.wait_for(lambda s: bool(s.socket_acks))
        assert app.events == []  # acked before the bot had it...
        assert len(kept.rows) == 1  # ...and kept
        names.set()
        [event] = await app.wait_events(1)
        await until_idle(app.platform)
    assert [a["envelope_id"] for a in app.slack.socket_acks] == ["env-1"]
    assert (event.text, event.author.display_name) == ("chart it", "alice")
    assert kept.rows == {}  # handed over: forgotten


async def test_in_socket_mode_an_envelope_that_cannot_be_kept_is_not_acked_and_slacks_resends_go_over_once() -> None:
    kept = Kept()
    async with slack_app(requests=kept, socket=True) as app:
        said = event_body(mention("<@UBOT> chart it", ts="1700000000.1"))  # one event id, sent three times
        kept.failing = True
        await app.slack.socket_send(envelope("env-1", said))
        await asyncio.wait_for(kept.refused.wait(), 10)
        kept.failing = False
        await app.slack.socket_send(envelope("env-2", said, retry=1))  # Slack sends it again...
        await app.slack.socket_send(envelope("env-3", said, retry=2))  # ...and again (a kept one: a duplicate)
        await app.slack.wait_for(lambda s: len(s.socket_acks) == 2)
        await app.wait_events(1)
        await until_idle(app.platform)
    assert [a["envelope_id"] for a in app.slack.socket_acks] == ["env-2", "env-3"]  # never the one not kept
    assert [e.text for e in app.events] == ["chart it"]
    assert kept.rows == {}


async def test_in_socket_mode_a_restarted_platform_hands_over_what_the_last_one_acked_and_did_not() -> None:
    kept = Kept()
    async with slack_app(requests=kept, socket=True) as app:
        app.keeping_fails = True  # the bot's own inbox refuses it after the ack
        await app.slack.socket_send(envelope("env-1", event_body(mention("<@UBOT> chart it", ts="1700000000.1"))))
        await app.slack.wait_for(lambda s: bool(s.socket_acks))
        await until_idle(app.platform)
        assert (app.events, len(kept.rows)) == ([], 1)
    async with slack_app(requests=kept, socket=True) as app:
        [event] = await app.wait_events(1)
        await until_idle(app.platform)
    assert event.text == "chart it"
    assert kept.rows == {}


async def test_in_socket_mode_an_event_bolt_cannot_read_is_acked_with_one_line_and_not_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    kept = Kept()
    async with slack_app(requests=kept, socket=True) as app:
        caplog.clear()
        broken = {**event_body(mention("<@UBOT> chart it", ts="1700000000.1")), "authorizations": [1]}
        await app.slack.socket_send(envelope("env-broken", broken))
        await app.slack.socket_send(envelope("env-1", event_body(mention("<@UBOT> chart it", ts="1700000000.2"))))
        [event] = await app.wait_events(1)
        await app.slack.wait_for(lambda s: len(s.socket_acks) == 2)
        await until_idle(app.platform)
    assert sorted(a["envelope_id"] for a in app.slack.socket_acks) == ["env-1", "env-broken"]  # not sent again
    assert (event.text, len(kept.keys)) == ("chart it", 1)  # only the one Bolt can read was kept
    refused = [r.getMessage() for r in caplog.records if "refused a Slack event" in r.getMessage()]
    assert len(refused) == 1
    assert refused[0].startswith("refused a Slack event from the socket: the payload has fields of the wrong kind")
    assert "Traceback" not in caplog.text


def envelope(envelope_id: str, callback: dict[str, Any], retry: int = 0) -> dict[str, Any]:
    """A Socket Mode envelope carrying an event ``callback`` (``retry``: how many times Slack sent it before)."""
    sent = {"envelope_id": envelope_id, "type": "events_api", "accepts_response_payload": False}
    retried = {"retry_attempt": retry, "retry_reason": "timeout"} if retry else {}
    return {**sent, **retried, "payload": callback}


async def kept_and_not_taken(app: Running, kept: Kept) -> None:
    """A mention answered 200 and kept, which the bot's own inbox then refused (a full disk, say)."""
    app.keeping_fails = True
    assert (await app.sender.event(event_body(mention("<@UBOT> chart it", ts="1700000000.1"))))[0] == 200
    await until_idle(app.platform)
    assert app.events == []
    assert len(kept.rows) == 1


async def until_idle(platform: SlackPlatform, within: float = 10) -> None:
    """Until the platform has no hand-over under way."""
    assert platform.intake is not None
    async with asyncio.timeout(within):
        await platform.intake.idle()
