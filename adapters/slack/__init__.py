"""Slack: threads become conversations; agents post as personas; people answer and approve.

See :class:`SlackPlatform` and :class:`SlackConfig`; ``manifest.yaml`` is the app to create.
"""

from .platform import BOT_SCOPES, SlackConfig, SlackPlatform

__all__ = ["BOT_SCOPES", "SlackConfig", "SlackPlatform"]
