"""Slack: threads become conversations; agents post as personas; people answer and approve.

See :class:`SlackPlatform` and :class:`SlackConfig`; ``manifest.yaml`` is the app to create.
"""

from .config import BOT_SCOPES, SlackConfig
from .installations import slack_installation_store, slack_oauth_state_store
from .links import thread_url
from .platform import SlackPlatform

__all__ = [
    "BOT_SCOPES",
    "SlackConfig",
    "SlackPlatform",
    "slack_installation_store",
    "slack_oauth_state_store",
    "thread_url",
]
