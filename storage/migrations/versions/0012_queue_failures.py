"""queue_failures: a conversation counts its work's failures in a row

Revision ID: 0012_queue_failures
Revises: 0011_queue_reminded_at
Created: 2026-12-01 04:00:00

Each process counted them in memory, so with several workers a thread failing on each in turn
never backed off; the row is what every worker sees.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_queue_failures"
down_revision = "0011_queue_reminded_at"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on SQLite too (3.35+ drops a column in place): a batch would copy the table and
# drop the old one, and with foreign keys on that drop deletes every conversation's messages and changes.


def upgrade() -> None:
    op.add_column("conversations", sa.Column("failures", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    op.drop_column("conversations", "failures")
