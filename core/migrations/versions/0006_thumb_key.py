"""One name for a thumbnail's key (`thumb_key`, as on the other tables), and no dead column: a
garment photo never changes after its upload, so its `updated_at` said nothing.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("avatarpreset") as batch:
        batch.alter_column("thumbnail_key", new_column_name="thumb_key")
    with op.batch_alter_table("cloth") as batch:
        batch.drop_column("updated_at")


def downgrade() -> None:
    with op.batch_alter_table("cloth") as batch:
        batch.add_column(sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False,
                                   server_default=sa.text("CURRENT_TIMESTAMP")))  # the downgrade's time
    with op.batch_alter_table("avatarpreset") as batch:
        batch.alter_column("thumb_key", new_column_name="thumbnail_key")
