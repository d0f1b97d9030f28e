"""Chat platforms (Slack, Discord, the console, in memory) translated to and from the neutral
thread model.

Imports none of agents/, storage/ or bot/. Platform words (ts, thread_ts, guild_id) stay
inside each platform's module.
"""

from .console import ConsolePlatform
from .errors import AdapterError, NotInstalledError, PlatformError
from .files import MAX_IMAGE_BYTES, MAX_IMAGES
from .memory import InMemoryPlatform, Posted
from .render import MentionPolicy, defuse_mass_mentions, limit_mentions, show_link_targets, split_markdown
from .thread import (
    Attachment,
    Author,
    Button,
    Capabilities,
    ChannelAccess,
    ChatPlatform,
    EventHandler,
    MessageStream,
    OutboundMessage,
    Persona,
    SkippedFile,
    ThreadEvent,
    ThreadRef,
)

__all__ = [
    "MAX_IMAGES",
    "MAX_IMAGE_BYTES",
    "AdapterError",
    "Attachment",
    "Author",
    "Button",
    "Capabilities",
    "ChannelAccess",
    "ChatPlatform",
    "ConsolePlatform",
    "EventHandler",
    "InMemoryPlatform",
    "MentionPolicy",
    "MessageStream",
    "NotInstalledError",
    "OutboundMessage",
    "Persona",
    "PlatformError",
    "Posted",
    "SkippedFile",
    "ThreadEvent",
    "ThreadRef",
    "defuse_mass_mentions",
    "limit_mentions",
    "show_link_targets",
    "split_markdown",
]
