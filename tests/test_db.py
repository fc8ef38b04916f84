"""Schema, idempotent preset seeding and the sweep of jobs a dead process left running."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from core.context import context_for
from core.db import INTERRUPTED, STALLED, fail_interrupted_jobs, fail_stalled_jobs, init_db, session_scope
from core.models import AvatarPreset, Cloth3D, FittingSession, utcnow

pytestmark = pytest.mark.both_dbs

class _NoRunner:
    def submit(self, *args) -> None:  # seeding and recovery never submit jobs
        raise AssertionError("unexpected job")


def test_presets_seeded_once(settings) -> None:
    from core.service import FitroomService

    ctx = context_for(settings)
    first = FitroomService(ctx, _NoRunner()).start()
    second = FitroomService(ctx, _NoRunner()).start()
    assert first["seeded_presets"] == 3 and second["seeded_presets"] == 0
    with session_scope(ctx.engine) as s:
        rows = s.exec(select(AvatarPreset)).all()
    assert sorted(r.slug for r in rows) == ["average-man-175", "slim-woman-160", "tall-man-185"]
    for r in rows:
        assert ctx.storage.exists(r.glb_key) and ctx.storage.exists(r.gltf_key)
        assert ctx.storage.exists(r.thumb_key)
        assert {"neck", "shoulder_l", "chest", "waist", "hips", "crotch", "knee_l", "ankle_r"} <= set(r.landmarks)


def test_interrupted_jobs_end_as_errors(settings) -> None:
    ctx = context_for(settings)
    init_db(ctx.engine)
    with session_scope(ctx.engine) as s:
        s.add(Cloth3D(id="a" * 8, cloth_id="c"))
        s.add(Cloth3D(id="b" * 8, cloth_id="c", status="done"))
        s.add(FittingSession(id="c" * 8, cloth3d_id="x", avatar_preset_id="y"))
        s.commit()
    assert fail_interrupted_jobs(ctx.engine) == 2
    with session_scope(ctx.engine) as s:
        assert s.get(Cloth3D, "a" * 8).status == "error"
        assert s.get(Cloth3D, "a" * 8).log == INTERRUPTED
        assert s.get(Cloth3D, "b" * 8).status == "done"
        assert s.get(FittingSession, "c" * 8).status == "error"
    assert fail_interrupted_jobs(ctx.engine) == 0


def test_api_start_leaves_celery_jobs_running(settings) -> None:
    """With WORKER=celery, jobs run on workers: an API (re)start must not end them."""
    from core.service import FitroomService

    ctx = context_for(settings.model_copy(update={"worker": "celery"}))
    init_db(ctx.engine)
    with session_scope(ctx.engine) as s:
        s.add(Cloth3D(id="d" * 8, cloth_id="c", stage="reconstruction"))
        s.commit()
    assert FitroomService(ctx, _NoRunner()).start()["interrupted_jobs"] == 0
    with session_scope(ctx.engine) as s:
        assert s.get(Cloth3D, "d" * 8).status == "processing"


def test_stalled_jobs_end_as_errors(settings) -> None:
    """A started job whose row has not moved for the limit ends; queued and fresh ones stay."""
    ctx = context_for(settings)
    init_db(ctx.engine)
    old = utcnow() - timedelta(seconds=600)
    with session_scope(ctx.engine) as s:
        s.add(Cloth3D(id="stale", cloth_id="c", stage="export", updated_at=old))
        s.add(Cloth3D(id="queued", cloth_id="c", stage="queued", updated_at=old))
        s.add(Cloth3D(id="fresh", cloth_id="c", stage="export"))
        s.add(FittingSession(id="stale-fit", cloth3d_id="x", avatar_preset_id="y", stage="started", updated_at=old))
        s.commit()
    assert fail_stalled_jobs(ctx.engine, older_than_s=300) == 2
    with session_scope(ctx.engine) as s:
        assert s.get(Cloth3D, "stale").status == "error" and s.get(Cloth3D, "stale").log == STALLED
        assert s.get(Cloth3D, "queued").status == s.get(Cloth3D, "fresh").status == "processing"
        assert s.get(FittingSession, "stale-fit").status == "error"


def test_presets_are_served_with_normals_and_older_stored_files_are_replaced(settings) -> None:
    """Every preset GLB the app serves carries vertex normals, the Draco one too; a deployment that
    stored an older file (one without normals) gets the committed one on its next start."""
    import pygltflib

    from core.mesh.export import decode_draco_glb
    from core.service import FitroomService

    ctx = context_for(settings)
    FitroomService(ctx, _NoRunner()).start()
    with session_scope(ctx.engine) as s:
        rows = s.exec(select(AvatarPreset)).all()
    assert len(rows) == 3
    for row in rows:
        gltf = pygltflib.GLTF2.load_from_bytes(ctx.storage.get_bytes(row.glb_key))
        assert all(p.attributes.NORMAL is not None for m in gltf.meshes for p in m.primitives), row.slug
        assert all(d.normals is not None for d in decode_draco_glb(ctx.storage.get_bytes(row.gltf_key)))
    committed = ctx.storage.get_bytes(rows[0].glb_key)
    ctx.storage.put_bytes(rows[0].glb_key, b"glTF an older file", "model/gltf-binary")
    FitroomService(ctx, _NoRunner()).start()
    assert ctx.storage.get_bytes(rows[0].glb_key) == committed


def test_rebuilt_presets_bring_the_db_up_to_date(settings) -> None:
    """A deployment whose presets were seeded from an older build of the committed files (the
    landmarks differ) gets the new landmarks and files on its next start, under the same ids."""
    from core.service import FitroomService

    ctx = context_for(settings)
    FitroomService(ctx, _NoRunner()).start()
    with session_scope(ctx.engine) as s:
        row = s.exec(select(AvatarPreset).where(AvatarPreset.slug == "tall-man-185")).one()
        right, preset_id = row.landmarks, row.id
        row.landmarks = {**right, "shoulder_l": [0.2, 1.65, 0.01]}  # an older build's joints
        s.add(row)
        s.commit()
    ctx.storage.put_bytes(row.glb_key, b"an older build", "model/gltf-binary")
    assert FitroomService(ctx, _NoRunner()).start()["seeded_presets"] == 0
    with session_scope(ctx.engine) as s:
        row = s.exec(select(AvatarPreset).where(AvatarPreset.slug == "tall-man-185")).one()
    assert row.id == preset_id and row.landmarks == right
    assert ctx.storage.get_bytes(row.glb_key)[:4] == b"glTF"
