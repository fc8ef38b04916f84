"""Fitting on a committed preset: nothing inside the body, the clearance kept, named nodes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh
from hypothesis import given, settings
from hypothesis import strategies as st

from core.ai.segment import Cutout
from core.ai.silhouette import reconstruct
from core.avatars.presets import PRESETS_DIR
from core.fitting import field
from core.fitting.body import BodyModel
from core.fitting.clearance import push_out
from core.fitting.fit import FitLayer, fit
from core.mesh.cleanup import clean
from core.mesh.export import scene_to_glb
from core.samples import draw_garment


def preset_body(slug: str) -> BodyModel:
    meta = json.loads((PRESETS_DIR / f"{slug}.json").read_text())
    return BodyModel(trimesh.load(PRESETS_DIR / f"{slug}.glb", force="mesh"), meta["landmarks"], meta["measurements"])


@pytest.fixture(scope="module")
def body() -> BodyModel:
    return preset_body("average-man-175")


def exact_clearance(body: BodyModel, points: np.ndarray) -> np.ndarray:
    """Exact signed distance to the body (positive outside): the reference the fitting is checked by."""
    return -trimesh.proximity.signed_distance(body.mesh, points)


def garment(category: str) -> trimesh.Trimesh:
    photo, mask = draw_garment(category)
    return clean(reconstruct(Cutout(np.asarray(photo), mask, "t"), category, "low").mesh)


def test_preset_body_is_a_closed_solid(body) -> None:
    assert body.mesh.is_watertight and body.mesh.volume > 0.03
    assert body.mesh.bounds[0, 1] == pytest.approx(0.0, abs=1e-6)  # feet on the floor
    lm = body.landmarks
    assert lm["ankle_l"][1] < lm["knee_l"][1] < lm["crotch"][1] < lm["waist"][1] < lm["chest"][1] < lm["neck"][1]


@pytest.mark.parametrize("category", ["top", "bottom", "dress"])
def test_fitted_garment_never_inside(body, category) -> None:
    result = fit([FitLayer(garment(category), category, category)], body, offset_mm=4.0)
    (g,) = result.garments
    assert not body.mesh.contains(g.vertices).any()
    assert exact_clearance(body, g.vertices).min() >= 0.003  # the clearance holds after smoothing
    assert result.metrics["inside_share"] == 0.0 and result.metrics["max_penetration_mm"] == 0.0
    lo, hi = g.bounds[:, 1]
    if category == "bottom":
        assert abs(hi - body.point("waist")[1]) < 0.08 and lo < body.point("knee_l")[1]
    else:
        # The neckline rests where the neck meets the shoulders (the cloth around the neck base
        # stands a little above it), well below the skeleton's neck joint.
        assert -0.01 < hi - body.neck_base_y < 0.05 and lo < body.point("waist")[1]


def test_neck_base_is_where_the_neck_widens_into_the_shoulders(body) -> None:
    from core.avatars.measure import torso_loop

    def width(y: float) -> float:
        loop = torso_loop(body.mesh, y, (0.0, float(body.point("pelvis")[2])))
        return loop.bounds[2] - loop.bounds[0]

    base = body.neck_base_y
    assert body.point("chest")[1] < base < body.point("neck")[1]
    assert width(base - 0.03) > 1.6 * width(base + 0.04)  # shoulders below, the neck above


def test_scene_has_named_nodes_and_keeps_texture(body) -> None:
    result = fit([FitLayer(garment("top"), "top", "top"), FitLayer(garment("bottom"), "bottom", "bottom")], body)
    scene = trimesh.load(trimesh.util.wrap_as_stream(scene_to_glb(result.scene)), file_type="glb", force="scene")
    assert set(scene.graph.nodes_geometry) == {"avatar", "garment_top", "garment_bottom"}
    top = scene.geometry["garment_top"]
    assert top.visual.material.baseColorTexture is not None
    # Where the two overlap (round the hips), the top (the outer layer) sits further out than the bottom.
    bottom_mesh, top_mesh = result.garments
    low = max(top_mesh.bounds[0, 1], bottom_mesh.bounds[0, 1])
    high = min(top_mesh.bounds[1, 1], bottom_mesh.bounds[1, 1])
    assert high > low
    gaps = []
    for mesh in (bottom_mesh, top_mesh):
        v = mesh.vertices[(mesh.vertices[:, 1] > low) & (mesh.vertices[:, 1] < high)]
        signed, _, _ = body.surface_query(v, near=0.2)
        gaps.append(np.percentile(signed[np.isfinite(signed)], 5))
    assert gaps[1] > gaps[0]


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.floats(-0.3, 0.3), st.floats(0.9, 1.5), st.floats(-0.2, 0.2)),
                min_size=1, max_size=40))
def test_push_out_clears_any_point(body, points) -> None:
    pts = np.array(points)
    out = push_out(pts, body, offset=0.004)
    assert (exact_clearance(body, out) >= 0).all()  # never inside, whatever the point
    clear = exact_clearance(body, pts) > 0.006
    assert np.allclose(out[clear], pts[clear])  # points already clear are not moved


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16), spread=st.floats(0.01, 0.4))
def test_body_grid_agrees_with_the_exact_body(body, seed, spread) -> None:
    """The per-avatar grid must never change an answer: inside as ray parity says, and its
    distance bound never above the true distance to the skin."""
    rng = np.random.default_rng(seed)
    skin = body.mesh.sample(400, seed=seed)
    lo, hi = body.mesh.bounds[0] - 0.1, body.mesh.bounds[1] + 0.1
    pts = np.vstack([skin + rng.normal(0, spread, skin.shape), rng.uniform(lo, hi, (400, 3))])
    assert (body.contains(pts) == body.mesh.contains(pts)).all()
    assert (body.grid.clearance(pts) <= np.abs(exact_clearance(body, pts)) + 1e-9).all()
    signed, _, _ = body.surface_query(pts)
    near = np.abs(exact_clearance(body, pts)) < 0.02
    assert np.isfinite(signed[near]).all()  # nothing near the skin is skipped


@settings(max_examples=12, deadline=None)
@given(radius=st.floats(0.05, 0.3), seed=st.integers(0, 2**16))
def test_the_distance_field_reads_a_sphere_s_distance_and_normal(radius, seed) -> None:
    """On a sphere (its distance known): within the field's reach, the distance to 0.3 mm, the
    normal radial, the closest point on the skin (away from the centre, where the distance has no
    gradient); farther out, nothing; deeper in, `deep`."""
    shape = BodyModel(trimesh.creation.icosphere(5, radius=radius), landmarks={})
    rng = np.random.default_rng(seed)
    direction = rng.normal(size=(3000, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    depth = rng.uniform(-min(0.06, radius), 0.06, 3000)
    points = direction * (radius + depth)[:, None]
    signed, closest, normals, deep, _ = shape.field.query(points, field.REACH)
    true = np.linalg.norm(points, axis=1) - radius
    held = np.isfinite(signed)
    assert held[np.abs(depth) < min(field.REACH - 0.001, radius / 2)].all()  # nothing within reach is skipped
    assert not held[depth > field.BAND].any() and deep[depth < -field.BAND].all()
    held &= depth > -radius / 2
    assert np.abs(signed[held] - true[held]).max() < 3e-4
    # a cell's gradient is its side's difference: off by up to half the turn over a cell (5 mm on a
    # 5 cm round: 3 degrees), more deep in a small sphere, where the distance bends fastest
    skin = held & (depth > -0.01)
    assert (np.einsum("ij,ij->i", normals[skin], direction[skin]) > np.cos(np.radians(5))).all()
    assert np.abs(np.linalg.norm(closest[held], axis=1) - radius).max() < 1e-3


def test_the_distance_field_is_as_near_the_truth_as_the_body_s_samples(body) -> None:
    """Near the skin the field reads the exact distance about as well as the samples' search it is
    built from (both are off in the creases, by a millimetre or so)."""
    skin, faces = trimesh.sample.sample_surface(body.mesh, 4000, seed=5)
    points = skin + body.mesh.face_normals[faces] * np.random.default_rng(5).uniform(-0.01, 0.025, (4000, 1))
    signed, _, _, _, unresolved = body.field.query(points, 0.03)
    searched, _, _ = body.surface.query(points, 0.03)
    assert 0.0 < unresolved.mean() < 0.1  # fingers, toes, ears: left to the search
    both = np.isfinite(signed) & np.isfinite(searched)
    assert (both | unresolved).mean() > 0.99
    exact = exact_clearance(body, points[both])
    error, error_searched = np.abs(signed[both] - exact), np.abs(searched[both] - exact)
    assert np.percentile(error, 95) < max(6e-4, 1.5 * np.percentile(error_searched, 95))
    assert np.percentile(error, 50) < 1e-4


def test_push_out_keeps_the_clearance_almost_everywhere(body) -> None:
    """Only in creases narrower than twice the offset (the gluteal cleft) can a point not be
    4 mm from both sides at once; there it still ends outside."""
    pts = np.random.default_rng(0).uniform([-0.3, 0.8, -0.2], [0.3, 1.5, 0.2], (3000, 3))
    clearance = exact_clearance(body, push_out(pts, body, offset=0.004))
    assert clearance.min() >= 0
    assert (clearance >= 0.003).mean() >= 0.998


def test_outfit_layers_and_tuck_in(body) -> None:
    from core.fitting.surface import SurfaceSamples

    top, bottom = FitLayer(garment("top"), "top", "top"), FitLayer(garment("bottom"), "bottom", "bottom")
    over = fit([top, bottom], body)
    tucked = fit([top, bottom], body, tuck_in=True)
    assert [r["name"] for r in over.metrics["layers"]] == ["garment_bottom", "garment_top"]
    assert [r["name"] for r in tucked.metrics["layers"]] == ["garment_top", "garment_bottom"]
    for result in (over, tucked):
        inner, outer = result.garments
        assert not body.mesh.contains(inner.vertices).any() and not body.mesh.contains(outer.vertices).any()
        # wherever the outer layer comes near the inner one, it is on its outside
        signed, _, _ = SurfaceSamples.of(inner).query(outer.vertices, near=0.02)
        near = signed[np.isfinite(signed)]
        assert (near > 0).mean() > 0.99 if len(near) else result is over  # a loose top may not touch
    assert (np.isfinite(SurfaceSamples.of(tucked.garments[0]).query(tucked.garments[1].vertices, 0.02)[0])).sum() > 20


def test_ease_widens_the_garment(body) -> None:
    """Round the waist (the sleeves' tubes follow the arms whatever the ease)."""
    waist = body.point("waist")[1]

    def width(ease: str) -> float:
        v = fit([FitLayer(garment("top"), "top", "top")], body, ease=ease).garments[0].vertices
        return float(np.ptp(v[np.abs(v[:, 1] - waist) < 0.02, 0]))

    assert width("loose") > width("tight") + 0.01


def test_no_membrane_over_body_openings(body) -> None:
    """Head, hands and feet stay free: rays leaving the body through the neck, the wrists and the
    ankles meet no garment."""
    result = fit([FitLayer(garment("top"), "top", "top"), FitLayer(garment("bottom"), "bottom", "bottom")], body)
    scene_mesh = trimesh.util.concatenate(result.garments)
    lm = {k: np.asarray(v) for k, v in body.landmarks.items()}
    rays = [(lm["neck"], [0, 1, 0])]
    for side in ("l", "r"):
        rays.append((lm[f"wrist_{side}"], lm[f"wrist_{side}"] - lm[f"elbow_{side}"]))
        rays.append((lm[f"ankle_{side}"], [0, -1, 0]))
    origins = np.array([o for o, _ in rays], float)
    dirs = np.array([d / np.linalg.norm(d) for _, d in rays], float)
    hits = scene_mesh.ray.intersects_any(origins, dirs)
    assert not hits.any(), [i for i, h in enumerate(hits) if h]


@settings(max_examples=15, deadline=None)
@given(kind=st.sampled_from(["sphere", "capsule"]), radius=st.floats(0.05, 0.3), height=st.floats(0.1, 1.0),
       seed=st.integers(0, 2**16))
def test_random_garments_around_random_bodies_end_outside(kind, radius, height, seed) -> None:
    mesh = (trimesh.creation.icosphere(4, radius=radius) if kind == "sphere"
            else trimesh.creation.capsule(height=height, radius=radius, count=[24, 24]))
    shape = BodyModel(mesh, landmarks={})
    rng = np.random.default_rng(seed)
    cloth = rng.normal(0, radius, (300, 3)) * [1, 1 + height / radius, 1]  # a cloud in and around it
    out = push_out(cloth, shape, offset=0.004)
    assert not mesh.contains(out).any()
    assert (exact_clearance(shape, out) >= 0.003).all()


def test_outerwear_goes_over_the_top(body) -> None:
    from core.fitting.surface import SurfaceSamples

    result = fit([FitLayer(garment("outer"), "outer", "outer"), FitLayer(garment("top"), "top", "top")], body)
    assert [r["name"] for r in result.metrics["layers"]] == ["garment_top", "garment_outer"]
    top, outer = result.garments
    signed, _, _ = SurfaceSamples.of(top).query(outer.vertices, near=0.01)
    assert (signed[np.isfinite(signed)] > 0).mean() > 0.99
    assert result.metrics["layers"][1]["clearance_mm_p5"] > result.metrics["layers"][0]["clearance_mm_p5"]
