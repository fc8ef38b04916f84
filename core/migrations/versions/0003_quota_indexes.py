"""Indexes for the quotas (core/quotas.py): a user's rows by creation time, a user's jobs by status.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEXES = {"cloth": ("created_at",), "cloth3d": ("created_at", "status"),
           "avatarpreset": ("created_at", "status"), "fittingsession": ("status",)}


def upgrade() -> None:
    for table, columns in INDEXES.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.create_index(f"ix_{table}_user_id_{column}", ["user_id", column], unique=False)


def downgrade() -> None:
    for table, columns in INDEXES.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_index(f"ix_{table}_user_id_{column}")
