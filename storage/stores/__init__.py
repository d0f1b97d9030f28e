"""The stores of one database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .cache import ResponseCacheStore
from .conversations import ACTIVE_STATUSES, ConversationStore
from .events import EventStore
from .messages import MessageStore
from .platform_state import PlatformStateStore
from .runtime_log import RuntimeLogStore
from .schedules import ScheduleStore
from .usage import UsageStore
from .waits import WaitStore

if TYPE_CHECKING:
    from ..database import Database

__all__ = [
    "ACTIVE_STATUSES",
    "ConversationStore",
    "EventStore",
    "MessageStore",
    "PlatformStateStore",
    "ResponseCacheStore",
    "RuntimeLogStore",
    "ScheduleStore",
    "Stores",
    "UsageStore",
    "WaitStore",
]


class Stores:
    """Every store, on one database."""

    def __init__(self, db: Database) -> None:
        self.conversations = ConversationStore(db)
        self.messages = MessageStore(db)
        self.events = EventStore(db)
        self.waits = WaitStore(db)
        self.schedules = ScheduleStore(db)
        self.llm_cache = ResponseCacheStore(db)
        self.usage = UsageStore(db)
        self.platform_state = PlatformStateStore(db)
        self.runtime_log = RuntimeLogStore(db)
