"""schedules: intervals, time zones, and where a schedule comes from

Revision ID: 0005
Revises: 0004
Created: 2026-11-30 20:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("schedules") as batch:
        batch.alter_column("cron", existing_type=sa.String(length=128), nullable=True)
        batch.add_column(sa.Column("every_seconds", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False))
        batch.add_column(sa.Column("source", sa.String(length=16), server_default="chat", nullable=False))


def downgrade() -> None:
    op.execute("DELETE FROM schedules WHERE cron IS NULL")
    with op.batch_alter_table("schedules") as batch:
        batch.drop_column("source")
        batch.drop_column("timezone")
        batch.drop_column("every_seconds")
        batch.alter_column("cron", existing_type=sa.String(length=128), nullable=False)
