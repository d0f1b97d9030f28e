"""messages: the tokens and cost of the model calls behind each message, and how a model chose its speaker

Revision ID: 0007_message_usage_selection
Revises: 0006_runtime_log
Created: 2026-11-30 23:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_message_usage_selection"
down_revision = "0006_runtime_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("model_usage", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("speaker_selection", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("speaker_selection")
        batch.drop_column("model_usage")
