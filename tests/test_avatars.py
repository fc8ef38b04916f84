"""The anny builder and the committed presets it made."""

from __future__ import annotations

import functools

import numpy as np
import pygltflib
import pytest

from core.avatars.presets import PRESET_SPECS, load_presets


def test_committed_presets_match_their_specs() -> None:
    presets = load_presets()
    assert [p.slug for p in presets] == [s.slug for s in PRESET_SPECS]
    for files, spec in zip(presets, PRESET_SPECS, strict=True):
        assert files.meta["height_cm"] == pytest.approx(spec.phenotype.height_cm, abs=0.5)
        m = files.meta["measurements"]
        assert 60 < m["waist_cm"] < m["chest_cm"] + 10 and 70 < m["hips_cm"] < 130
        assert files.glb.stat().st_size < 2_000_000
        gltf = pygltflib.GLTF2.load(files.glb)
        # built by the current exporter: with vertex normals (else every viewer shades it flat)
        assert all(p.attributes.NORMAL is not None for m in gltf.meshes for p in m.primitives), files.glb.name


def test_missing_preset_file_is_named(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"slim-woman-160\.json"):
        load_presets(tmp_path)


@pytest.mark.slow
def test_anny_body_has_the_asked_height_and_ordered_landmarks() -> None:
    from core.avatars.builder import Phenotype, build_body

    body = build_body(Phenotype(gender=1.0, height_cm=168, weight=0.5))
    assert body.measurements["height_cm"] == pytest.approx(168, abs=0.5)
    assert body.mesh.is_watertight and body.mesh.volume > 0
    assert body.mesh.bounds[0, 1] == pytest.approx(0.0, abs=1e-9)
    lm = body.landmarks
    assert lm["ankle_r"][1] < lm["knee_r"][1] < lm["hips"][1] < lm["waist"][1] < lm["chest"][1] < lm["neck"][1]
    assert lm["shoulder_l"][0] > 0 > lm["shoulder_r"][0]  # +X is the body's left, seen from the front
    # The joints are the posed body's: inside its limbs (anny's rest-pose joints are off them).
    joints = ["shoulder_l", "shoulder_r", "elbow_l", "elbow_r", "wrist_l", "wrist_r", "hip_l", "knee_r", "ankle_l"]
    assert body.mesh.contains(np.array([lm[j] for j in joints])).all()
    # Facing +Z: the toes are in front of the heels.
    feet = body.mesh.vertices[body.mesh.vertices[:, 1] < 0.03]
    assert feet[:, 2].max() > 0.1 and abs(feet[:, 2].min()) < feet[:, 2].max()


def test_anny_s_cache_is_built_once_per_machine_and_not_kept_in_memory(tmp_path, monkeypatch) -> None:
    """A worker warming finds no cache: it builds it (here a stand-in model) and says so; the next
    start finds it built and builds nothing; a worker that finds another building goes on."""
    import fcntl

    from core.avatars import builder

    built: list[int] = []
    monkeypatch.setenv("ANNY_CACHE_DIR", str(tmp_path / "anny"))
    model = functools.lru_cache(maxsize=1)(lambda: object())
    monkeypatch.setattr(builder, "_model", model)
    monkeypatch.setattr(builder, "build_body", lambda pheno: built.append(1) or model())
    assert builder.ensure_model_cache() is True and built == [1]
    assert builder._model.cache_info().currsize == 0  # not held by the worker
    assert builder.ensure_model_cache() is False and built == [1]
    for marker in (tmp_path / "anny").glob("fitroom-built-*"):
        marker.unlink()
    with (tmp_path / "anny" / ".fitroom-build.lock").open("w") as held:  # another worker building
        fcntl.flock(held, fcntl.LOCK_EX)
        assert builder.ensure_model_cache() is False and built == [1]
    assert builder.ensure_model_cache() is True and built == [1, 1]
