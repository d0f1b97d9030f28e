"""The errors of the platform adapters.

AdapterError
├── PlatformError        the platform refused a call or could not be reached; ``status``
│                        (HTTP), ``code`` (the platform's error name) and ``retry_after``
└── NotInstalledError    the app is not installed in that workspace (multi-workspace Slack)

A platform's own exceptions (slack-sdk's SlackApiError, ...) are turned into these once, in
that platform's adapter; the cause stays attached.
"""

from __future__ import annotations

__all__ = ["AdapterError", "NotInstalledError", "PlatformError"]


class AdapterError(Exception):
    """The root of every error adapters/ raises on purpose."""


class PlatformError(AdapterError):
    """A platform API call failed.

    Attributes:
        status: the HTTP status, when there was a response.
        code: the platform's name for the error (Slack's ``error``, e.g. ``channel_not_found``).
        retry_after: seconds the platform asked us to wait, when it did.
    """

    def __init__(
        self, message: str, *, status: int | None = None, code: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry_after = retry_after


class NotInstalledError(AdapterError):
    """The app has no installation (no bot token) for the workspace."""
