"""Requests that are not Slack's, or not readable, are refused early and plainly: 401 or 400 and one
log line, never a traceback. Pure checks first, then requests into the real Bolt app."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import quote

import pytest
from multidict import CIMultiDict

from adapters.slack.requests import Signed, check_request, signature_of
from tests.adapters.slack.test_platform import mention, slack_app
from tests.fakes.slack_requests import SIGNING_SECRET, event_body

NOW = 1_700_000_000


def signed(body: str, content_type: str = "application/json", stamp: str = str(NOW)) -> CIMultiDict[str]:
    return CIMultiDict(
        {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature_of(SIGNING_SECRET, stamp, body.encode()),
        }
    )


def check(body: str, headers: CIMultiDict[str]) -> tuple[int, str] | None:
    checked = check_request(body.encode(), headers, signing_secret=SIGNING_SECRET, now=NOW)
    return None if isinstance(checked, Signed) else (checked.status, checked.reason)


def test_what_slack_sends_passes() -> None:
    event = json.dumps(event_body(mention("<@UBOT> hi")))
    assert check(event, signed(event)) is None
    form = "payload=" + quote(json.dumps({"type": "block_actions", "actions": []}))
    assert check(form, signed(form, "application/x-www-form-urlencoded")) is None
    command = "command=%2Fthreadcrew&text=status&team_id=T1&user_id=U1&channel_id=C1"
    assert check(command, signed(command, "application/x-www-form-urlencoded")) is None
    # What passes is read once: its text and the JSON it carries (a slash command's form has none).
    read = [
        check_request(b.encode(), signed(b, t), signing_secret=SIGNING_SECRET, now=NOW)
        for b, t in (
            (event, "application/json"),
            (form, "application/x-www-form-urlencoded"),
            (command, "application/x-www-form-urlencoded"),
        )
    ]
    assert read == [
        Signed(event, json.loads(event)),
        Signed(form, {"type": "block_actions", "actions": []}),
        Signed(command, None),
    ]


@pytest.mark.parametrize(
    ("headers", "status", "reason"),
    [
        (CIMultiDict({"Content-Type": "application/json"}), 401, "not signed"),
        (signed("something else"), 401, "does not match"),
        (signed("{}", stamp=str(NOW - 301)), 401, "five minutes"),
        (signed("{}", stamp="soon"), 400, "not a number"),
        (signed("{}", stamp="١٢٣"), 400, "not a number"),  # digits, but not ASCII ones
    ],
)
def test_unsigned_wrongly_signed_stale_and_odd_timestamps_are_refused(
    headers: CIMultiDict[str], status: int, reason: str
) -> None:
    found = check("{}", headers)
    assert found is not None
    assert found[0] == status
    assert reason in found[1]


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        ("{{{not json", "application/json", "not valid JSON"),
        ("[1, 2]", "application/json", "not a JSON object"),
        ("", "application/json", "not valid JSON"),
        ("payload=%7B%7Bnot", "application/x-www-form-urlencoded", "not valid JSON"),
        ("", "application/x-www-form-urlencoded", "empty"),
        ("hello", "text/plain", "JSON or a form"),
        (json.dumps({"type": "event_callback", "event": {"user": 5}}), "application/json", "wrong kind"),
        (json.dumps({"type": "event_callback", "authorizations": [1]}), "application/json", "wrong kind"),
        (
            "payload=" + quote(json.dumps({"type": "block_actions", "user": 5})),
            "application/x-www-form-urlencoded",
            "wrong kind",
        ),
    ],
)
def test_signed_but_malformed_bodies_are_refused_with_400(body: str, content_type: str, reason: str) -> None:
    found = check(body, signed(body, content_type))
    assert found is not None
    assert found[0] == 400
    assert reason in found[1]


def test_a_body_that_is_not_utf8_is_refused() -> None:
    body = b'{"type": "\xff"}'
    stamp = str(NOW)
    headers = CIMultiDict(
        {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature_of(SIGNING_SECRET, stamp, body),
        }
    )
    refusal = check_request(body, headers, signing_secret=SIGNING_SECRET, now=NOW)
    assert not isinstance(refusal, Signed)
    assert (refusal.status, refusal.reason) == (400, "the body is not UTF-8")


async def test_bad_requests_into_the_real_app_get_401_or_400_and_one_line_each(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with slack_app() as app:
        sender = app.sender
        caplog.clear()
        with caplog.at_level(logging.INFO):
            answers = [
                (await sender.send("{{{not json", "application/json", signature="v0=" + "0" * 64))[0],
                (await sender.send("{{{not json", "application/json"))[0],
                (await sender.send("[1, 2]", "application/json"))[0],
                (await sender.send("payload=%7B%7Bnot", "application/x-www-form-urlencoded"))[0],
                (await sender.event({"type": "event_callback", "team": 1, "event": {"type": "message"}}))[0],
            ]
            body = json.dumps(event_body(mention("<@UBOT> hi")))
            stamp = "tomorrow"
            headers = {
                "Content-Type": "application/json",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": signature_of(SIGNING_SECRET, stamp, body.encode()),
            }
            async with sender.session.post(sender.url, data=body.encode(), headers=headers) as response:
                answers.append(response.status)
            async with sender.session.post(sender.url, data=b"garbage") as response:  # no headers at all
                answers.append(response.status)
            # Slack's own requests still get through.
            good = await sender.event(event_body(mention("<@UBOT> chart the squares", ts=f"{time.time():.6f}")))
            await app.wait_events(1)
        assert answers == [401, 400, 400, 400, 400, 400, 401]
        assert good[0] == 200
    refused = [r for r in caplog.records if r.name == "adapters.slack.requests"]
    assert len(refused) == len(answers)
    assert all(r.exc_info is None for r in caplog.records), "a traceback was logged"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
