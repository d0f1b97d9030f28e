"""discord.py's errors, turned into the adapters' PlatformError once."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import aiohttp
import discord

from ..errors import PlatformError

__all__ = ["UNKNOWN_CHANNEL", "UNKNOWN_WEBHOOK", "discord_code", "platform_errors"]

UNKNOWN_CHANNEL = 10003
UNKNOWN_MESSAGE = 10008
UNKNOWN_WEBHOOK = 10015
MISSING_PERMISSIONS = 50013
ARCHIVED_THREAD = 50083
THREAD_EXISTS = 160004


def discord_code(exc: BaseException | None) -> int | None:
    """Discord's JSON error code of a refused call (``10015``: Unknown Webhook), if it was one."""
    return exc.code if isinstance(exc, discord.HTTPException) else None


@contextlib.contextmanager
def platform_errors(doing: str) -> Iterator[None]:
    """Raise PlatformError (Discord's code, the HTTP status, and ``retry_after`` when rate limited)."""
    try:
        yield
    except discord.RateLimited as exc:
        raise PlatformError(f"Discord rate-limited {doing}", status=429, retry_after=exc.retry_after) from exc
    except discord.HTTPException as exc:
        raise PlatformError(
            f"Discord refused {doing}: {exc.status} {exc.code} {exc.text}", status=exc.status, code=str(exc.code)
        ) from exc
    except (aiohttp.ClientError, TimeoutError, discord.ClientException) as exc:
        raise PlatformError(f"Discord could not be reached for {doing}: {type(exc).__name__}") from exc
