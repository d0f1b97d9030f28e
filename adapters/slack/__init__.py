"""Slack: threads become conversations; agents post as personas; people answer and approve.

See :class:`SlackPlatform` and :class:`SlackConfig`; ``manifest.yaml`` is the app to create.
"""

from .config import BOT_SCOPES, SlackConfig
from .platform import SlackPlatform

__all__ = ["BOT_SCOPES", "SlackConfig", "SlackPlatform"]
