"""Job rows count how many times a worker started them (queue workers may redeliver after a crash).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JOB_TABLES = ("cloth3d", "fittingsession", "avatarpreset")


def upgrade() -> None:
    for table in JOB_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    for table in JOB_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("attempts")
