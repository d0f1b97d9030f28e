"""Alembic's environment for threadcrew's database.

Run through ``threadcrew db upgrade`` (storage.migrate), which hands over a connection, or
through the ``alembic`` command with ``sqlalchemy.url`` set, which opens one here.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context

from storage.schema import metadata, ours

config = context.config


def run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=ours,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_on_new_engine() -> None:
    from storage.database import Database

    async with Database(config.get_main_option("sqlalchemy.url") or "") as db, db.begin() as connection:
        await connection.run_sync(run)


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif (shared := config.attributes.get("connection")) is not None:
    run(shared)
else:
    asyncio.run(run_on_new_engine())
