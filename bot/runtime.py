"""What a running bot's sessions share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from adapters import ChatPlatform, ThreadRef
from adapters.arrivals import Arrivals
from storage import Database

from .errors import BotError
from .metrics import Metrics
from .redaction import Redactor
from .teams import TeamCatalog
from .workqueue.gate import StepGate

__all__ = ["Runtime", "UnknownPlatformError"]


class UnknownPlatformError(BotError):
    """A thread belongs to a platform this process does not serve."""


@dataclass
class Runtime:
    """The database, the platforms (by name), the teams, the limits and the metrics of one bot process."""

    db: Database
    platforms: dict[str, ChatPlatform]
    catalog: TeamCatalog
    work_root: Path
    step_timeout: float = 600.0
    redactor: Redactor = field(default_factory=Redactor)  # what is stored passes it (posts: see bot.guard)
    metrics: Metrics = field(default_factory=Metrics)
    arrivals: Arrivals = field(default_factory=Arrivals)  # events being taken in: the work waits for them
    steps: StepGate = field(default_factory=StepGate)  # how many steps run at once, first steps first
    served: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.served = set(self.platforms)

    def platform_for(self, thread: ThreadRef) -> ChatPlatform:
        """The platform ``thread`` lives on.

        Raises:
            UnknownPlatformError: this process does not serve that platform.
        """
        platform = self.platforms.get(thread.platform)
        if platform is None:
            served = ", ".join(sorted(self.platforms)) or "none"
            raise UnknownPlatformError(f"thread {thread.key} is on {thread.platform!r}; this bot serves {served}")
        return platform
