"""What Slack sends to an app: signed HTTP requests (events, button presses, slash commands) and
Socket Mode envelopes, built the way Slack documents them."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from tests.fakes.slack_api import SIGNING_SECRET

__all__ = ["SIGNING_SECRET", "SlackSender", "action_payload", "command_fields", "event_body"]

_ids = itertools.count(1)


def event_body(event: dict[str, Any], *, team_id: str = "T1", event_id: str | None = None) -> dict[str, Any]:
    """An Events API callback around ``event``."""
    return {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "api_app_id": "A1",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):04d}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team_id, "user_id": "UBOT", "is_bot": True}],
    }


def action_payload(
    action_id: str, value: str, *, user: str, channel: str, message_ts: str, thread_ts: str, team_id: str = "T1"
) -> dict[str, Any]:
    """A ``block_actions`` payload: ``user`` pressed a button of the bot's message ``message_ts``."""
    return {
        "type": "block_actions",
        "team": {"id": team_id, "domain": "test"},
        "user": {"id": user, "username": user.lower(), "team_id": team_id},
        "api_app_id": "A1",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
            "thread_ts": thread_ts,
        },
        "trigger_id": f"trigger-{next(_ids)}",
        "channel": {"id": channel, "name": "general"},
        "message": {"type": "message", "ts": message_ts, "thread_ts": thread_ts, "text": "", "bot_id": "BBOT"},
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b1",
                "type": "button",
                "value": value,
                "action_ts": f"{time.time():.6f}{next(_ids)}",
            }
        ],
    }


def command_fields(text: str, *, user: str, channel: str, team_id: str = "T1") -> dict[str, str]:
    """A slash command ``/threadcrew text`` as Slack posts it."""
    return {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "team_domain": "test",
        "channel_id": channel,
        "channel_name": "general",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/threadcrew",
        "text": text,
        "api_app_id": "A1",
        "response_url": "https://hooks.slack.invalid/commands/1",
        "trigger_id": f"trigger-{next(_ids)}",
    }


class SlackSender:
    """Posts signed requests to an app's ``/slack/events`` URL, as Slack does."""

    def __init__(self, url: str, secret: str = SIGNING_SECRET) -> None:
        self.url = url
        self.verifier = SignatureVerifier(secret)
        self.session = aiohttp.ClientSession()

    async def close(self) -> None:
        await self.session.close()

    async def send(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        retry: int | None = None,
    ) -> tuple[int, str]:
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature or self.verifier.generate_signature(timestamp=stamp, body=body),
        }
        if retry is not None:
            headers["X-Slack-Retry-Num"] = str(retry)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        async with self.session.post(self.url, data=body.encode(), headers=headers) as response:
            return response.status, await response.text()

    async def event(self, body: dict[str, Any], **kwargs: Any) -> tuple[int, str]:
        return await self.send(json.dumps(body), "application/json", **kwargs)

    async def action(self, payload: dict[str, Any]) -> tuple[int, str]:
        return await self.send(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    async def command(self, fields: dict[str, str]) -> tuple[int, str]:
        return await self.send(urlencode(fields), "application/x-www-form-urlencoded")
