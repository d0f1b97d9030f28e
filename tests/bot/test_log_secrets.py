"""No configured secret reaches a log line: not from threadcrew, not from the libraries it uses
(their own loggers, their own handlers), not in a traceback, in readable lines or JSON."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, literal, select

from bot.logs import SecretFilter, configure_logging
from tests.bot.crew import settings_for

BOT_TOKEN = "xoxb-4242-4343-abcdefgh1234"
SIGNING_SECRET = "sign-secret-9f8e7d6c5b4a"  # no token shape: only the configuration says it is secret
DB_PASSWORD = "pw-Tr0ub4dor-and-3"
OPENAI_KEY = "openai-key-not-shaped-777"  # from the environment, as OPENAI_API_KEY
SECRETS = (BOT_TOKEN, SIGNING_SECRET, DB_PASSWORD, OPENAI_KEY)

LIBRARIES = (
    "slack_sdk.web.async_base_client",
    "slack_bolt.AsyncApp",
    "discord.client",
    "aiohttp.server",
    "openai._base_client",
    "sqlalchemy.pool.impl.QueuePool",
    "bot.dispatcher",
)
ECHO = "sqlalchemy.engine.Engine"  # SQLAlchemy's echo logs here, through a handler of its own


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root, echo = logging.getLogger(), logging.getLogger(ECHO)
    saved = (list(root.handlers), root.level, list(echo.handlers), echo.level, logging.getLogRecordFactory())
    yield
    root.handlers[:], echo.handlers[:] = saved[0], saved[2]
    root.setLevel(saved[1])
    echo.setLevel(saved[3])
    logging.setLogRecordFactory(saved[4])


def failure() -> RuntimeError:
    """An error from a platform or the model that quotes every secret (a misbehaving proxy, say)."""
    try:
        raise RuntimeError(
            f"401 from upstream: token={BOT_TOKEN} key={OPENAI_KEY} secret={SIGNING_SECRET} "
            f"dsn=postgresql://threadcrew:{DB_PASSWORD}@db:5432/threadcrew"
        )
    except RuntimeError as exc:
        return exc


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_failures_that_quote_every_secret_leave_none_in_any_log_line(
    log_format: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    settings = settings_for(
        Path("unused"),
        log_format=log_format,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
    ).model_copy(update={"database_url": f"postgresql://threadcrew:{DB_PASSWORD}@db:5432/threadcrew"})
    out = io.StringIO()
    handler = configure_logging(settings, stream=out)
    error = failure()
    for name in LIBRARIES:
        logging.getLogger(name).error("the call failed: %s", error, exc_info=error)
    logging.getLogger("bot.session").warning("stack of a slow step", stack_info=True, extra={"step": 3})
    engine = create_engine("sqlite://", echo=True)  # its own handler, on stdout, not through ours
    with engine.connect() as conn:
        conn.execute(select(literal(SIGNING_SECRET)))
    engine.dispose()

    logged, echoed = out.getvalue(), capsys.readouterr().out
    assert logged.count("the call failed: 401 from upstream: token=[redacted] key=[redacted]") == len(LIBRARIES)
    assert logged.count("RuntimeError: 401 from upstream: token=[redacted] key=[redacted]") == len(LIBRARIES)
    assert "[redacted]" in echoed  # the statement's parameter, masked in SQLAlchemy's own line
    for secret in SECRETS:
        assert secret not in logged, secret
        assert secret not in echoed, secret
    if log_format == "json":
        lines = [json.loads(line) for line in logged.splitlines()]
        assert {line["logger"] for line in lines} >= set(LIBRARIES)
    [masking] = [f for f in handler.filters if isinstance(f, SecretFilter)]
    assert masking.masked["THREADCREW_SLACK_SIGNING_SECRET"] >= len(LIBRARIES) + 1  # counted by kind...
    assert masking.masked["$OPENAI_API_KEY"] == len(LIBRARIES) * 2  # (message and traceback)
    assert not any(secret in kind for kind in masking.masked for secret in SECRETS)  # ...never by value
