"""``threadcrew db``: the database's migrations."""

from __future__ import annotations

import typer

from storage import Database, current_revision, head_revision, upgrade

from ._shared import with_database

__all__ = ["app"]

app = typer.Typer(help="The database: migrations and their state.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database (THREADCREW_DATABASE_URL, or SQLite in THREADCREW_DATA_DIR) to the newest schema."""

    async def work(db: Database) -> tuple[str, str | None, str | None]:
        before = await current_revision(db)
        await upgrade(db)
        return db.safe_url, before, await current_revision(db)

    where, before, after = with_database(work)
    if before == after:
        typer.echo(f"{where} is at migration {after}: nothing to do")
    else:
        typer.echo(f"{where}: migrated from {before or 'an empty database'} to {after}")


@app.command("current")
def db_current() -> None:
    """Say which migration the database is at, and which this threadcrew needs."""

    async def work(db: Database) -> tuple[str, str | None]:
        return db.safe_url, await current_revision(db)

    where, revision = with_database(work)
    head = head_revision()
    state = "up to date" if revision == head else "behind: run `threadcrew db upgrade`"
    typer.echo(f"{where}: at {revision or 'no migration (empty)'}, this threadcrew needs {head} ({state})")
