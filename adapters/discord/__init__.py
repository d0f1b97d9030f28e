"""Discord: server threads become conversations; agents post as webhook personas; people answer
with messages, buttons and ``/threadcrew``.

See :class:`DiscordPlatform` and :class:`DiscordConfig`; :func:`invite_url` adds the bot to a
server with :data:`PERMISSIONS`.
"""

from .commands import sync_commands
from .config import API_URL, PERMISSIONS, DiscordConfig, client_id_from_token, intents, invite_url
from .links import thread_url
from .platform import DiscordPlatform
from .render import slash_command, split_message
from .webhooks import MemoryStateStore, StateStore

__all__ = [
    "API_URL",
    "PERMISSIONS",
    "DiscordConfig",
    "DiscordPlatform",
    "MemoryStateStore",
    "StateStore",
    "client_id_from_token",
    "intents",
    "invite_url",
    "slash_command",
    "split_message",
    "sync_commands",
    "thread_url",
]
