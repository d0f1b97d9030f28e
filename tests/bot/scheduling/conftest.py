"""The scheduler's tests run on SQLite and PostgreSQL, like the stores' (the same fixtures)."""

from __future__ import annotations

from tests.storage.conftest import FakeClock, clock, database_url, db, fresh_postgres, postgres_template

__all__ = ["FakeClock", "clock", "database_url", "db", "fresh_postgres", "postgres_template"]
