"""state_changes: a conversation's message lists stored by what each save changed

Revision ID: 0009_state_changes
Revises: 0008_the_job_queue
Created: 2026-11-30 23:40:00

States saved before this revision hold their lists inline and load as they are; nothing to move.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_state_changes"
down_revision = "0008_the_job_queue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "state_changes",
        sa.Column("conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_state_changes_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", "version", name=op.f("pk_state_changes")),
    )


def downgrade() -> None:
    # Put every list back into its state before the rows go: an older threadcrew reads states whole.
    from storage.stores.state_changes import inline_all_sync

    inline_all_sync(op.get_bind())
    op.drop_table("state_changes")
