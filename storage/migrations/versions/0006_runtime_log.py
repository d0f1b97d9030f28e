"""runtime_log: what agents.runtime_logging records while teams run in the bot

Revision ID: 0006_runtime_log
Revises: 0005
Created: 2026-11-30 23:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# A revision id of its own (not a bare "0006"): other branches add a 0006 of their own too.
revision = "0006_runtime_log"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runtime_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source_name", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_runtime_log_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runtime_log")),
    )
    op.create_index(op.f("ix_runtime_log_conversation_id"), "runtime_log", ["conversation_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_runtime_log_conversation_id"), table_name="runtime_log")
    op.drop_table("runtime_log")
