"""the job queue: each inbox event names its thread; on PostgreSQL, procrastinate's schema

Revision ID: 0008_the_job_queue
Revises: 0007_message_usage_selection
Created: 2026-11-30 23:40:00

On PostgreSQL the conversations' work runs as procrastinate jobs (bot/workqueue); its tables,
types and functions (all named ``procrastinate_*``) are procrastinate's own schema, applied
here so that ``threadcrew db upgrade`` is the one command that prepares a database. SQLite has
no job queue and gets only the inbox's new column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_the_job_queue"
down_revision = "0007_message_usage_selection"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("thread_key", sa.String(length=255), nullable=True))
        batch.create_index(batch.f("ix_inbox_thread_key"), ["thread_key"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        _run_script(_procrastinate_schema())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run_script(_DROP_PROCRASTINATE)
    with op.batch_alter_table("inbox") as batch:
        batch.drop_index(batch.f("ix_inbox_thread_key"))
        batch.drop_column("thread_key")


def _run_script(script: str) -> None:
    """Run SQL of many statements in the migration's transaction (asyncpg prepares single statements
    only, so it gets the script through its own connection, as one simple query)."""
    bind = op.get_bind()
    if bind.dialect.driver == "asyncpg":
        from sqlalchemy.util import await_only

        await_only(bind.connection.driver_connection.execute(script))  # type: ignore[union-attr]
    else:
        bind.exec_driver_sql(script.replace("%", "%%"))


def _procrastinate_schema() -> str:
    try:
        from procrastinate.schema import SchemaManager
    except ImportError as exc:  # the extra is not installed
        raise RuntimeError(
            "PostgreSQL runs the conversations on procrastinate's job queue: "
            'install it with `pip install "threadcrew[postgres]"`, then run `threadcrew db upgrade` again'
        ) from exc
    return SchemaManager.get_schema()


# Everything procrastinate's schema made (its names all start with procrastinate_), functions first.
_DROP_PROCRASTINATE = """
DO $$
DECLARE item record;
BEGIN
    FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%' LOOP
        EXECUTE 'DROP FUNCTION IF EXISTS ' || item.signature || ' CASCADE';
    END LOOP;
    FOR item IN SELECT tablename FROM pg_tables
                WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate%' LOOP
        EXECUTE 'DROP TABLE IF EXISTS ' || quote_ident(item.tablename) || ' CASCADE';
    END LOOP;
    FOR item IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate%' AND t.typtype = 'e' LOOP
        EXECUTE 'DROP TYPE IF EXISTS ' || quote_ident(item.typname) || ' CASCADE';
    END LOOP;
END $$;
"""
