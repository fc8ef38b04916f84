"""Alembic migrations on SQLite and PostgreSQL: an empty DB, a DB of the previous revision and a DB
made before migrations existed all reach the schema the models describe, rows kept."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import SQLModel

from core.context import context_for
from core.db import alembic_config, init_db, session_scope
from core.models import Cloth3D

pytestmark = pytest.mark.both_dbs
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def schema_diff(engine) -> list:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, SQLModel.metadata), ctx.get_current_revision()


def test_empty_db_upgrades_to_the_models(settings) -> None:
    engine = context_for(settings).engine
    init_db(engine)
    diff, rev = schema_diff(engine)
    assert diff == [] and rev == HEAD == "0006"
    init_db(engine)  # idempotent: a second start changes nothing
    assert schema_diff(engine) == ([], HEAD)


def test_previous_revision_upgrades_with_rows_kept(settings) -> None:
    engine = context_for(settings).engine
    init_db(engine, "0001")
    assert schema_diff(engine)[1] == "0001"
    with engine.begin() as conn:  # a job row as the old schema stored it (no attempts column)
        conn.execute(text("INSERT INTO cloth3d (id, model_requested, quality, status, created_at, updated_at) "
                          "VALUES ('old-job', 'auto', 'low', 'done', :t, :t)"), {"t": "2026-01-01 00:00:00+00"})
    init_db(engine)
    assert schema_diff(engine) == ([], HEAD)
    with session_scope(engine) as s:
        row = s.get(Cloth3D, "old-job")
    assert row.status == "done" and row.attempts == 0


def test_db_made_before_migrations_is_adopted(settings) -> None:
    engine = context_for(settings).engine
    init_db(engine, "0001")
    with engine.begin() as conn:  # what create_all left: the tables, no version table
        conn.execute(text("DROP TABLE alembic_version"))
    init_db(engine)
    assert schema_diff(engine) == ([], HEAD)



def test_0005_upgrades_to_one_thumbnail_name_with_rows_kept(settings) -> None:
    """0006 renames a preset's `thumbnail_key` to `thumb_key` (the other tables' name) and drops
    the garment photo's `updated_at`, which nothing wrote: an existing DB keeps its rows and keys."""
    from core.models import AvatarPreset, Cloth

    engine = context_for(settings).engine
    init_db(engine, "0005")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO avatarpreset (id, slug, name, height_cm, gender, status, attempts, params, "
                          "thumbnail_key, landmarks, measurements, is_custom, created_at, updated_at) VALUES "
                          "('p', 'old-preset', 'Old', 170, 'female', 'done', 0, '{}', 'presets/old/thumb.png', "
                          "'{}', '{}', false, :t, :t)"), {"t": "2026-01-01 00:00:00+00"})
        conn.execute(text("INSERT INTO cloth (id, image_key, status, width, height, size_bytes, has_alpha, "
                          "original_name, created_at, updated_at) VALUES ('c', 'clothes/c/photo.jpg', 'uploaded', "
                          "64, 64, 10, false, 'tee.jpg', :t, :t)"), {"t": "2026-01-01 00:00:00+00"})
    init_db(engine)
    assert schema_diff(engine) == ([], HEAD)
    with session_scope(engine) as s:
        preset, cloth = s.get(AvatarPreset, "p"), s.get(Cloth, "c")
    assert preset.thumb_key == "presets/old/thumb.png"
    assert (cloth.image_key, cloth.original_name) == ("clothes/c/photo.jpg", "tee.jpg")
