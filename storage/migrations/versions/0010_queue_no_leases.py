"""queue_no_leases: the leases table goes (nothing used it)

Revision ID: 0010_queue_no_leases
Revises: 0009_state_changes
Created: 2026-12-01 03:45:00

A conversation is driven by one worker at a time through the work queue (in memory, or a
procrastinate job whose lock is the thread), and housekeeping and the sweep are idempotent,
so no lease was ever taken. The downgrade makes the table again, empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_queue_no_leases"
down_revision = "0009_state_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("leases")


def downgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_leases_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_leases")),
    )
