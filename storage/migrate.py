"""Schema migrations (Alembic): upgrade, and the start-up check that the schema is current."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .database import Database
from .errors import DatabaseBehindError

__all__ = ["check_schema", "current_revision", "head_revision", "upgrade"]

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(db: Database | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if db is not None:
        config.set_main_option("sqlalchemy.url", db.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest migration this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def current_revision(db: Database) -> str | None:
    """The migration the database is at, or None for an empty database."""

    def read(connection: Any) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with db.connect() as conn:
        revision: str | None = await conn.run_sync(read)
    return revision


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (the newest by default), in one transaction."""
    config = alembic_config(db)

    def run(connection: Any) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with db.begin() as conn:
        await conn.run_sync(run)


async def check_schema(db: Database) -> None:
    """Raise DatabaseBehindError unless the database is at this code's newest migration.

    Raises:
        DatabaseBehindError: naming the database, both revisions, and the command to run.
    """
    current, head = await current_revision(db), head_revision()
    if current != head:
        where = "is empty" if current is None else f"is at migration {current}"
        raise DatabaseBehindError(
            f"the database {db.safe_url} {where}, and this threadcrew needs migration {head}: "
            "run `threadcrew db upgrade` (with the same THREADCREW_DATABASE_URL) and start again"
        )
