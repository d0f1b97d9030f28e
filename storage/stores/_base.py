"""What every store shares: the database, its clock, and the dialect's INSERT."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

if TYPE_CHECKING:
    from ..database import Database


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db

    def now(self) -> dt.datetime:
        return self.db.clock()

    def insert(self, table: Table) -> Any:
        """The dialect's INSERT, which knows ``ON CONFLICT``."""
        module = sqlite if self.db.dialect == "sqlite" else postgresql
        return module.insert(table)
