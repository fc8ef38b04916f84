"""The first schema: the tables as `SQLModel.metadata.create_all` made them before migrations.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Long because a migration is frozen history: the first schema as Alembic wrote it, a table a call."""
    op.create_table("avatarpreset",
    sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("height_cm", sa.Float(), nullable=False),
    sa.Column("gender", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("log", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("params", sa.JSON(), nullable=True),
    sa.Column("glb_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("gltf_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("thumbnail_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("landmarks", sa.JSON(), nullable=True),
    sa.Column("measurements", sa.JSON(), nullable=True),
    sa.Column("is_custom", sa.Boolean(), nullable=False),
    sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("avatarpreset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_avatarpreset_slug"), ["slug"], unique=True)
        batch_op.create_index(batch_op.f("ix_avatarpreset_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_avatarpreset_user_id"), ["user_id"], unique=False)

    op.create_table("cloth",
    sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("image_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("category", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("width", sa.Integer(), nullable=False),
    sa.Column("height", sa.Integer(), nullable=False),
    sa.Column("size_bytes", sa.Integer(), nullable=False),
    sa.Column("has_alpha", sa.Boolean(), nullable=False),
    sa.Column("original_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("cloth", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cloth_user_id"), ["user_id"], unique=False)

    op.create_table("cloth3d",
    sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("cloth_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("model_requested", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("model_used", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("quality", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("category", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("log", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("glb_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("gltf_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("obj_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("thumb_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("cutout_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("turntable_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("timings", sa.JSON(), nullable=True),
    sa.Column("stats", sa.JSON(), nullable=True),
    sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("cloth3d", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cloth3d_cloth_id"), ["cloth_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cloth3d_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_cloth3d_user_id"), ["user_id"], unique=False)

    op.create_table("fittingsession",
    sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("cloth3d_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("layers", sa.JSON(), nullable=True),
    sa.Column("avatar_preset_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("log", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("params", sa.JSON(), nullable=True),
    sa.Column("fitted_glb_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("fitted_gltf_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("thumb_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("metrics", sa.JSON(), nullable=True),
    sa.Column("timings", sa.JSON(), nullable=True),
    sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("fittingsession", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fittingsession_cloth3d_id"), ["cloth3d_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fittingsession_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_fittingsession_user_id"), ["user_id"], unique=False)

    op.create_table("user",
    sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("email", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_email"), ["email"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_email"))

    op.drop_table("user")
    with op.batch_alter_table("fittingsession", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fittingsession_user_id"))
        batch_op.drop_index(batch_op.f("ix_fittingsession_status"))
        batch_op.drop_index(batch_op.f("ix_fittingsession_cloth3d_id"))

    op.drop_table("fittingsession")
    with op.batch_alter_table("cloth3d", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cloth3d_user_id"))
        batch_op.drop_index(batch_op.f("ix_cloth3d_status"))
        batch_op.drop_index(batch_op.f("ix_cloth3d_cloth_id"))

    op.drop_table("cloth3d")
    with op.batch_alter_table("cloth", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cloth_user_id"))

    op.drop_table("cloth")
    with op.batch_alter_table("avatarpreset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_avatarpreset_user_id"))
        batch_op.drop_index(batch_op.f("ix_avatarpreset_status"))
        batch_op.drop_index(batch_op.f("ix_avatarpreset_slug"))

    op.drop_table("avatarpreset")
