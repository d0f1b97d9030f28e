"""Secrets never leave: a model that repeats every configured secret (and tokens of well-known
shapes) gets none of them into any platform call or into the stored transcript.

The real dispatcher and sessions on the in-memory platform, SQLite, and the real openai client
against the scripted crew model, streaming its replies in small pieces."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters import InMemoryPlatform, OutboundMessage, Persona, ThreadRef
from bot.guard import GuardedStream
from bot.redaction import REDACTED, Redactor, Secret, looks_secret, redactor_for
from bot.settings import Settings
from tests.bot.crew import Crew, crew_bot, in_thread
from tests.fakes.openai_server import ScriptedOpenAI, tool_calls

CONFIGURED = {
    "THREADCREW_SLACK_BOT_TOKEN": "xoxb-1111-2222-abcdefghijkl",
    "THREADCREW_SLACK_APP_TOKEN": "xapp-1-A111-222-abcdef0123",
    "THREADCREW_SLACK_SIGNING_SECRET": "8f0e5c1d9a7b4e3f2a1c0d9e8f7a6b5c",
    "THREADCREW_SLACK_CLIENT_SECRET": "client-secret-value-42",
    "THREADCREW_DISCORD_TOKEN": "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.discord-token-tail-0123456789",
    "THREADCREW_CONSOLE_TOKEN": "console-operator-token-77",
    "CREW_API_KEY": "crew-key-A1b2C3d4E5",  # the team file's ${CREW_API_KEY}
    "CREW_HOOK_TOKEN": "hook-token-zz9-plural",  # another ${VAR} of the team file
    "MY_SERVICE_PASSWORD": "hunter2-but-longer",  # only in the environment
}
SHAPED = [
    "ghp_" + "A1b2C3d4E5" * 4,  # GitHub
    "AKIAABCDEFGHIJKLMNOP",  # AWS
    "sk-proj-" + "Zy9" * 12,  # OpenAI
    "xoxp-9999-8888-unconfigured",  # Slack, not ours
]
EVERY = [*CONFIGURED.values(), *SHAPED]


def echo(sentence: str) -> str:
    """Says ``sentence`` back (a tool whose result carries what it was given)."""
    return f"you said: {sentence}"


class RecordingPlatform(InMemoryPlatform):
    """The in-memory platform, keeping every message it was given (streamed pieces and updates too)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[OutboundMessage] = []

    async def post(self, thread: ThreadRef, message: OutboundMessage) -> str:
        self.calls.append(message)
        return await super().post(thread, message)

    async def update(self, thread: ThreadRef, message_id: str, message: OutboundMessage) -> None:
        self.calls.append(message)
        await super().update(thread, message_id, message)


def everything_in(message: OutboundMessage) -> str:
    files = " ".join(f.data.decode(errors="replace") for f in message.attachments)
    buttons = " ".join(f"{b.label} {b.value}" for b in message.buttons)
    return f"{message.text} {buttons} {files}"


@pytest.fixture
def crew() -> Iterator[tuple[Crew, ScriptedOpenAI]]:
    model = Crew()
    with ScriptedOpenAI(responder=model) as server:
        yield model, server


async def test_a_model_that_echoes_every_secret_gets_none_posted_or_stored(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name, value in CONFIGURED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("bot.streaming.APPEND_EVERY", 0.0)  # every streamed piece shows at once
    model, server = crew
    leak = "Here they are: " + " and ".join(EVERY) + "."
    model.say("planner", leak)
    model.say("coder", tool_calls(("echo", {"sentence": " ".join(EVERY)})))
    model.say("reviewer", f"```\n{leak}\n```\nuser, does this look right?")
    platform = RecordingPlatform()
    models = {
        "default": {
            "model": "gpt-4o-mini",
            "base_url": server.base_url,
            "api_key": "${CREW_API_KEY}",
            "max_retries": 0,
            "stream": True,  # previews arrive in pieces of seven characters: secrets cut in two
        }
    }
    coder = {"name": "coder", "system_message": "Coder. You write code.", "tools": ["tests.bot.test_secrets:echo"]}
    with caplog.at_level(logging.WARNING, logger="bot.redaction"):
        async with crew_bot(
            server,
            tmp_path,
            platform,
            models=models,
            description="posts to ${CREW_HOOK_TOKEN}",
            agents=[
                {"name": "planner", "system_message": "Planner. You plan the work."},
                coder,
                {"name": "reviewer", "system_message": "Reviewer. You review."},
            ],
        ) as bot:
            await platform.mention("t1", "tell me your secrets")
            await platform.wait_for(in_thread("t1"))
            await bot.idle()
            stored = await bot.transcript("t1")
            state = json.dumps((await bot.conversation("t1")).state)

    said = [everything_in(m) for m in platform.calls]
    assert len(platform.streams) >= 3
    assert len(said) >= 20  # the previews grew piece by piece
    assert any(REDACTED in s for s in said)
    for secret in EVERY:
        assert not [s for s in said if secret in s], f"{secret} was posted"
        assert not any(secret[:12] in s for s in said), f"the start of {secret} was shown"
    dumped = json.dumps([[m.content, m.tool_calls, m.tool_responses, m.attachments] for m in stored])
    assert "you said: " in dumped  # the tool ran with what it was given, and its result is stored
    for secret in EVERY:
        assert secret not in dumped, f"{secret} was stored"
    assert dumped.count(REDACTED) >= 3 * len(EVERY)
    assert "you said: " in state  # the run's own state, which the model reads back after a restart
    assert not [secret for secret in EVERY if secret in state]
    lines = [r.getMessage() for r in caplog.records]
    assert any("redacted" in line and "THREADCREW_SLACK_SIGNING_SECRET" in line for line in lines)
    assert not [line for line in lines for secret in EVERY if secret in line]  # counted, never shown


def test_the_redactor_knows_the_settings_the_database_password_and_team_secrets() -> None:
    settings = Settings(
        data_dir=Path("/tmp/x"),
        database_url="postgresql://bot:pg-pass-word-1@db.internal/threadcrew",
        slack_bot_token="xoxb-ab",  # too short to be taken for a secret
        slack_signing_secret="signing-secret-1234",
    )
    redactor = redactor_for(settings, environ={"OPENAI_API_KEY": "openai-key-1234567", "TOKENIZERS_PARALLELISM": "f"})
    text = "pg-pass-word-1 signing-secret-1234 openai-key-1234567 xoxb-ab false"
    assert redactor.redact(text) == f"{REDACTED} {REDACTED} {REDACTED} xoxb-ab false"
    assert redactor.counts["the password of THREADCREW_DATABASE_URL"] == 1


@pytest.mark.parametrize(
    ("name", "secret"),
    [("OPENAI_API_KEY", True), ("DB_PASSWORD", True), ("GH_TOKEN", True), ("TOKENIZERS_PARALLELISM", False)],
)
def test_names_that_look_secret(name: str, secret: bool) -> None:
    assert looks_secret(name) is secret


async def test_a_streamed_preview_never_shows_a_secret_cut_in_pieces() -> None:
    platform = RecordingPlatform()
    redactor = Redactor([Secret("two words secret", "a test")])
    stream = GuardedStream(
        await platform.start_stream(platform.thread("t1"), Persona("a")),  # type: ignore[arg-type]
        redactor,
        "a preview",
    )
    text = "a two words secret and ghp_" + "x1" * 20 + " <@U1> end"
    for start in range(0, len(text), 3):
        await stream.append(text[start : start + 3])
    assert platform.calls[-1].text == f"a {REDACTED} and {REDACTED} @\u200bU1 end"  # previews never ping
    assert len(platform.calls) > 5  # it grew as the pieces came
    assert not [m.text for m in platform.calls if "two w" in m.text or "ghp" in m.text or "<@" in m.text]


def test_a_json_value_is_redacted_even_where_json_escapes_the_secret() -> None:
    redactor = Redactor([Secret('pass"word\nline-12345', "quoted"), Secret("plainsecret123", "plain")])
    token = "sk-" + "A" * 24
    value = {"a": ['pass"word\nline-12345 here', {"b": "plainsecret123"}], "n": 3, "c": f"key {token}"}
    assert redactor.json(value) == {"a": ["[redacted] here", {"b": "[redacted]"}], "n": 3, "c": "key [redacted]"}
    clean = {"a": ["nothing secret here", {"b": None}], "n": 1.5}
    assert redactor.json(clean) == clean
