"""slack-sdk's errors, turned into the adapters' PlatformError once."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from ..errors import PlatformError

__all__ = ["platform_errors", "slack_error_code"]


def slack_error_code(exc: SlackApiError) -> str:
    """Slack's name for what went wrong (``missing_scope``, ``channel_not_found``, ...)."""
    return str(exc.response.get("error") or "unknown_error")


@contextlib.contextmanager
def platform_errors(doing: str) -> Iterator[None]:
    """Raise PlatformError (with Slack's code, the HTTP status and Retry-After) for a failed call."""
    try:
        yield
    except SlackApiError as exc:
        code = slack_error_code(exc)
        retry = (exc.response.headers or {}).get("Retry-After") or (exc.response.headers or {}).get("retry-after")
        raise PlatformError(
            f"Slack refused {doing}: {code}",
            status=exc.response.status_code,
            code=code,
            retry_after=float(retry) if retry else None,
        ) from exc
    except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
        raise PlatformError(f"Slack could not be reached for {doing}: {type(exc).__name__}") from exc
