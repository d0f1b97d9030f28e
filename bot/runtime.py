"""What a running bot's sessions share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from adapters import ChatPlatform
from storage import Database

from .redaction import Redactor
from .teams import TeamCatalog

__all__ = ["Runtime"]


@dataclass
class Runtime:
    """The database, the platform, the teams, and the limits of one bot process."""

    db: Database
    platform: ChatPlatform
    catalog: TeamCatalog
    work_root: Path
    step_timeout: float = 600.0
    redactor: Redactor = field(default_factory=Redactor)  # what is stored passes it (posts: see bot.guard)
