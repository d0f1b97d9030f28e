"""queue_reminded_at: a wait keeps whether its reminder went

Revision ID: 0011_queue_reminded_at
Revises: 0010_queue_no_leases
Created: 2026-12-01 03:55:00

The reminder's event key alone was the mark, and housekeeping purges event keys after a week: a
wait longer than that could be reminded twice. An open wait whose reminder key is still kept is
marked reminded at the key's time.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_queue_reminded_at"
down_revision = "0010_queue_no_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("waits", sa.Column("reminded_at", sa.DateTime(), nullable=True))  # in place, not a batch copy
    op.execute(
        "UPDATE waits SET reminded_at = (SELECT min(p.created_at) FROM processed_events p"
        " WHERE p.event_key = 'event:remind:' || CAST(waits.id AS VARCHAR))"
        " WHERE answered_at IS NULL"
    )


def downgrade() -> None:
    op.drop_column("waits", "reminded_at")
