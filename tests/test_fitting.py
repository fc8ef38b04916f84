"""Fitting on a committed preset: nothing inside the body, the clearance kept, named nodes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.ai.segment import Cutout
from core.ai.silhouette import reconstruct
from core.avatars.presets import PRESETS_DIR
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
    assert set(scene.graph.nodes_geometry) == {"avatar", "garment:top", "garment:bottom"}
    top = scene.geometry["garment:top"]
    assert top.visual.material.baseColorTexture is not None
    outer_gap = [r["clearance_mm_p5"] for r in result.metrics["layers"]]
    assert outer_gap[1] > outer_gap[0]  # the top (outer layer) sits further out than the bottom


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
    assert [r["name"] for r in over.metrics["layers"]] == ["garment:bottom", "garment:top"]
    assert [r["name"] for r in tucked.metrics["layers"]] == ["garment:top", "garment:bottom"]
    for result in (over, tucked):
        inner, outer = result.garments
        assert not body.mesh.contains(inner.vertices).any() and not body.mesh.contains(outer.vertices).any()
        # wherever the outer layer comes near the inner one, it is on its outside
        signed, _, _ = SurfaceSamples.of(inner).query(outer.vertices, near=0.02)
        near = signed[np.isfinite(signed)]
        assert (near > 0).mean() > 0.99 if len(near) else result is over  # a loose top may not touch
    assert (np.isfinite(SurfaceSamples.of(tucked.garments[0]).query(tucked.garments[1].vertices, 0.02)[0])).sum() > 20


def test_ease_widens_the_garment(body) -> None:
    depth = {e: np.ptp(fit([FitLayer(garment("top"), "top", "top")], body, ease=e).garments[0].vertices[:, 0])
             for e in ("tight", "loose")}
    assert depth["loose"] > depth["tight"]


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
    assert [r["name"] for r in result.metrics["layers"]] == ["garment:top", "garment:outer"]
    top, outer = result.garments
    signed, _, _ = SurfaceSamples.of(top).query(outer.vertices, near=0.01)
    assert (signed[np.isfinite(signed)] > 0).mean() > 0.99
    assert result.metrics["layers"][1]["clearance_mm_p5"] > result.metrics["layers"][0]["clearance_mm_p5"]


def flat_garment(*parts: list[tuple[float, float]], category: str = "top") -> trimesh.Trimesh:
    """A garment reconstructed from a flat-lay photo of the union of polygons (x, y in metres,
    top centre at 0, y down), as the photo path would make it (its size normalised)."""
    import cv2

    px = 800  # pixels per metre
    image = np.full((700, 800, 3), 255, np.uint8)
    for part in parts:
        pts = np.round([(400 + x * px, 20 - y * px) for x, y in part]).astype(np.int32)
        cv2.fillPoly(image, [pts], (40, 90, 160))
    mask = (image < 250).any(axis=2)
    return clean(reconstruct(Cutout(image, mask, "t"), category, "low").mesh)


TORSO = [(-0.2, 0.0), (0.2, 0.0), (0.2, -0.65), (-0.2, -0.65)]
LAID_SLEEVES = ([(0.2, -0.02), (0.3, -0.06), (0.3, -0.5), (0.2, -0.5)],
                [(-0.2, -0.02), (-0.3, -0.06), (-0.3, -0.5), (-0.2, -0.5)])


def test_sleeves_laid_along_the_torso_are_found() -> None:
    """Long sleeves touching the torso in the photo: the torso is measured without them, and
    they are sleeves down to the cuffs; a bow on one side is not a sleeve."""
    from core.fitting.placement import TORSO_BAND, FrontRuns

    laid = FrontRuns.of(flat_garment(TORSO, *LAID_SLEEVES))
    full = np.ptp(flat_garment(TORSO, *LAID_SLEEVES).vertices[:, 0])
    assert laid.width(TORSO_BAND) / full == pytest.approx(0.4 / 0.6, abs=0.02)  # the sleeves are not torso
    rows = np.flatnonzero(laid.alongside)
    assert len(rows) and rows.max() / laid.height / laid.px_per_m > 0.45 / 0.65  # down to the cuffs
    bow = FrontRuns.of(flat_garment(TORSO, [(0.2, -0.2), (0.3, -0.2), (0.3, -0.5), (0.2, -0.5)]))
    assert not bow.alongside.any()


def test_laid_sleeves_are_cut_from_the_torso_and_follow_the_arms(body) -> None:
    result = fit([FitLayer(flat_garment(TORSO, *LAID_SLEEVES), "top", "top")], body)
    (g,) = result.garments
    assert result.metrics["inside_share"] == 0.0 and result.metrics["layers"][0]["stretch_p95"] < 1.15
    for side in ("l", "r"):
        shoulder, elbow = body.point(f"shoulder_{side}"), body.point(f"elbow_{side}")
        axis = (elbow - shoulder) / np.linalg.norm(elbow - shoulder)
        # The sleeve runs along the arm, which goes down its middle: the cloth around the upper
        # arm is within 8 cm of the shoulder-elbow line, and centred on it within 2 cm across
        # the frontal plane (where the sleeve was turned).
        along = (g.vertices - shoulder) @ axis
        near_arm = g.vertices[(along > 0.1) & (along < 0.9 * np.linalg.norm(elbow - shoulder))]
        rel = near_arm - shoulder - np.outer((near_arm - shoulder) @ axis, axis)
        off = np.linalg.norm(rel, axis=1)
        assert (off < 0.08).sum() > 50
        across = np.array([-axis[1], axis[0], 0.0]) / np.linalg.norm(axis[:2])
        assert abs(float(np.mean(rel[off < 0.08] @ across))) < 0.02


class _Joints:
    """Just the landmarks a limb turn reads."""

    def __init__(self, points: dict[str, np.ndarray]) -> None:
        self.points = points

    def point(self, name: str) -> np.ndarray:
        return self.points[name]


@settings(max_examples=60, deadline=None)
@given(st.floats(-2.6, -0.6), st.floats(-3.0, -0.2), st.floats(0.0, 0.15), st.floats(0.0, 0.1),
       st.floats(0.25, 0.6), st.floats(0.03, 0.08))
def test_a_turned_sleeve_runs_down_the_arm(arm_angle, sleeve_angle, off_x, off_y, length, width) -> None:
    """However a long flat-lay sleeve lies (hanging down, spread out, its root off the
    shoulder), once turned its middle line is the arm's line, from root to cuff."""
    from core.fitting.placement import _turn_limbs

    shoulder = np.array([0.18, 1.45, 0.0])
    elbow = shoulder + 0.3 * np.array([np.cos(arm_angle), np.sin(arm_angle), 0])
    joints = _Joints({"shoulder_l": shoulder, "elbow_l": elbow,
                      "shoulder_r": shoulder * [-1, 1, 1], "elbow_r": shoulder * [-1, 1, 1] + [0, -0.3, 0]})
    along = np.array([np.cos(sleeve_angle), np.sin(sleeve_angle)])
    across = np.array([-along[1], along[0]])
    t, u = np.meshgrid(np.linspace(0, length, 40), np.linspace(-width, width, 9), indexing="ij")
    root = shoulder[:2] + [off_x, -off_y] + width * np.abs(across)  # beside or below the shoulder
    xy = root + t[..., None] * along + u[..., None] * across
    points = np.concatenate([xy.reshape(-1, 2), np.zeros((xy.size // 2, 1))], axis=1)
    assume((points[:, 0] > 0).all())  # one side's sleeve does not cross the centre line
    # A sleeve hangs from its root: its cuff is further from the shoulder (clearly: not a
    # sleeve lying across it, whose ends are equally far and either could be the cuff).
    assume(np.linalg.norm(root + length * along - shoulder[:2]) > np.linalg.norm(root - shoulder[:2]) + 0.05)
    turned = _turn_limbs(points, joints, "shoulder", "elbow", along_x=True, sleeve=np.ones(len(points)))
    arm = (joints.point("elbow_l") - shoulder)[:2] / 0.3
    middles = turned[:, :2].reshape(40, 9, 2).mean(axis=1) - shoulder[:2]  # the sleeve's middle line
    assert np.abs(middles @ [-arm[1], arm[0]]).max() < 0.005
    assert (middles[-1] - middles[0]) @ arm == pytest.approx(length, abs=1e-3)  # pointing down the arm


def test_straight_trousers_go_over_wide_hips_and_keep_a_waist_sized_waistband() -> None:
    """Straight-cut trousers on a body whose hips are 1.45 times its waist: sized by the waist
    alone, the cloth is stretched over the hips and the seat; the garment widens from its
    waistband (which stays the waist's size) down to the hips, and reaches back over the seat."""
    woman = preset_body("slim-woman-160")
    assert woman.measurements["hips_cm"] / woman.measurements["waist_cm"] > 1.4
    legs = ([(-0.18, 0.0), (0.18, 0.0), (0.18, -1.0), (0.01, -1.0), (0.01, -0.28), (-0.01, -0.28),
             (-0.01, -1.0), (-0.18, -1.0)],)
    result = fit([FitLayer(flat_garment(*legs, category="bottom"), "bottom", "bottom")], woman)
    (g,) = result.garments
    report = result.metrics["layers"][0]
    assert result.metrics["inside_share"] == 0.0 and report["stretch_p95"] < 1.15
    waistband = g.vertices[g.vertices[:, 1] > woman.point("waist")[1]]
    x0, x1, _, _ = woman.torso_extent(woman.point("waist")[1])
    assert np.ptp(waistband[:, 0]) < 1.25 * (x1 - x0)  # on the waist, not standing off it
    hips = g.vertices[np.abs(g.vertices[:, 1] - woman.point("hips")[1] - 0.03) < 0.02]
    hx0, hx1, _, _ = woman.torso_extent(woman.point("hips")[1])
    assert np.ptp(hips[:, 0]) > hx1 - hx0  # over the hips


def test_sleeves_hanging_apart_below_the_hem_turn_whole(body) -> None:
    """Long sleeves hanging beside a short torso, apart from it, down past its hem: the cuffs
    are sleeve too, so each sleeve turns as one piece and no cuff is left floating."""
    from core.fitting.placement import BLEND_M, FrontRuns, place

    sleeves = ([(0.2, -0.02), (0.32, -0.06), (0.32, -0.8), (0.25, -0.8), (0.25, -0.15), (0.2, -0.12)],
               [(-0.2, -0.02), (-0.32, -0.06), (-0.32, -0.8), (-0.25, -0.8), (-0.25, -0.15), (-0.2, -0.12)])
    mesh = flat_garment(TORSO, *sleeves)
    scale = np.ptp(mesh.vertices[:, 0]) / 0.64
    cuffs_and_hem = np.array([[0.28, -0.78, 0], [-0.28, -0.78, 0], [0.1, -0.6, 0]]) * scale
    assert FrontRuns.of(mesh).sleeve_weight(cuffs_and_hem, BLEND_M).tolist() == [1, 1, 0]
    placed = place(mesh, "top", body)
    pieces = [p for p in placed.split(only_watertight=False) if len(p.vertices) > 20]
    assert len(pieces) == 1


def test_a_sleeve_touching_the_torso_to_the_hem_is_found_by_symmetry() -> None:
    """One sleeve parts from the torso below the elbow, the other touches it down to the hem:
    the second is found as the first's mirror image; cuffs below the hem are sleeve too."""
    from core.fitting.placement import BLEND_M, TORSO_BAND, FrontRuns

    parted = [(0.2, -0.02), (0.3, -0.06), (0.3, -0.7), (0.23, -0.7), (0.23, -0.35), (0.2, -0.35)]
    touching = [(-0.2, -0.02), (-0.3, -0.06), (-0.3, -0.7), (-0.2, -0.7)]
    mesh = flat_garment(TORSO, parted, touching)
    runs = FrontRuns.of(mesh)
    assert runs.width(TORSO_BAND) / np.ptp(mesh.vertices[:, 0]) == pytest.approx(0.4 / 0.6, abs=0.03)
    scale = np.ptp(mesh.vertices[:, 0]) / 0.6  # the photo path normalises the garment's size
    points = np.array([[-0.25, -0.5, 0], [0.25, -0.5, 0], [-0.25, -0.68, 0], [-0.12, -0.5, 0], [0.12, -0.6, 0]])
    assert runs.sleeve_weight(points * scale, BLEND_M).tolist() == [1, 1, 1, 0, 0]


def test_sleeves_laid_along_a_narrowing_body_are_found() -> None:
    """A bodysuit: the torso narrows below the cuffs instead of going straight on."""
    from core.fitting.placement import TORSO_BAND, FrontRuns

    body_suit = [(-0.2, 0.0), (0.2, 0.0), (0.2, -0.5), (0.05, -0.7), (-0.05, -0.7), (-0.2, -0.5)]
    mesh = flat_garment(body_suit, *LAID_SLEEVES)
    runs = FrontRuns.of(mesh)
    assert runs.alongside.any()
    assert runs.width(TORSO_BAND) / np.ptp(mesh.vertices[:, 0]) == pytest.approx(0.4 / 0.6, abs=0.03)


def test_laid_sleeves_are_rounded_not_torso_thick(body) -> None:
    """Inflated with the torso, a laid sleeve would be as deep as the torso; cut from it, it
    gets a round section no deeper than its own width, and the torso keeps its depth."""
    from core.fitting.placement import FrontRuns

    mesh = flat_garment(TORSO, *LAID_SLEEVES)
    rounded = FrontRuns.of(mesh).round_laid_sleeves(mesh.vertices)
    scale = np.ptp(mesh.vertices[:, 0]) / 0.6  # the photo path normalises the garment's size
    x, y = np.abs(mesh.vertices[:, 0]) / scale, mesh.vertices[:, 1] / scale
    sleeve, torso = (x > 0.21) & (y < -0.25), x < 0.15  # below the armpits (above: the shoulders)
    half_width = 0.05 * scale
    assert np.abs(mesh.vertices[sleeve, 2]).max() > 1.5 * half_width  # the test is not vacuous
    assert np.abs(rounded[sleeve, 2]).max() <= half_width * 1.1
    np.testing.assert_array_equal(rounded[torso], mesh.vertices[torso])
    # Laid flat, the sleeve's 10 cm width is half its girth: round, it is 2 × 10 / π cm across.
    across = 2 * 0.1 / np.pi * scale
    right = sleeve & (mesh.vertices[:, 0] > 0) & (np.abs(y + 0.35) < 0.01)
    assert np.ptp(rounded[right, 0]) == pytest.approx(across, rel=0.15)
    assert 2 * np.abs(rounded[right, 2]).max() == pytest.approx(across, rel=0.15)
    # An arm must go in: a sleeve narrower than the arm (with room) is as wide as that, at most
    # as wide as it lay flat.
    roomy = FrontRuns.of(mesh).round_laid_sleeves(mesh.vertices, least_radius=0.045 * scale)
    assert np.ptp(roomy[right, 0]) == pytest.approx(0.09 * scale, rel=0.15)
    wider = FrontRuns.of(mesh).round_laid_sleeves(mesh.vertices, least_radius=0.2 * scale)
    assert np.ptp(wider[right, 0]) == pytest.approx(0.1 * scale, rel=0.15)




def test_straps_and_ties_hanging_from_the_hem_are_not_sleeves(body) -> None:
    """A crop top with straps hanging from its hem beside the hips, and a tie at one side:
    that cloth starts low, so it stays with the torso and hangs there; the short sleeves
    sewn on at the shoulders still turn onto the arms."""
    from core.fitting.placement import BLEND_M, FrontRuns, place

    crop = [(-0.2, 0.0), (0.2, 0.0), (0.2, -0.4), (-0.2, -0.4)]
    sleeves = ([(0.2, -0.02), (0.34, -0.1), (0.3, -0.18), (0.2, -0.14)],
               [(-0.2, -0.02), (-0.34, -0.1), (-0.3, -0.18), (-0.2, -0.14)])
    straps = ([(0.17, -0.38), (0.22, -0.38), (0.26, -0.75), (0.22, -0.75)],
              [(-0.17, -0.38), (-0.22, -0.38), (-0.26, -0.75), (-0.22, -0.75)])
    mesh = flat_garment(crop, *sleeves, *straps)
    scale = np.ptp(mesh.vertices[:, 1]) / 0.75  # the photo path normalises the garment's size
    points = np.array([[0.29, -0.1, 0], [-0.29, -0.1, 0], [0.225, -0.55, 0], [-0.225, -0.55, 0], [0.245, -0.7, 0]])
    assert FrontRuns.of(mesh).sleeve_weight(points * scale, BLEND_M).tolist() == [1, 1, 0, 0, 0]
    placed = place(mesh, "top", body)
    low = placed.vertices[placed.vertices[:, 1] < body.point("crotch")[1] + 0.1]
    assert len(low) > 20  # the straps still hang down beside the hips …
    for side, sign in (("l", 1.0), ("r", -1.0)):  # … not out along the forearms
        straps_here = low[sign * low[:, 0] > 0]
        assert np.abs(straps_here[:, 0]).max() < abs(body.point(f"elbow_{side}")[0])


def test_a_tie_at_the_side_is_not_a_sleeve() -> None:
    from core.fitting.placement import BLEND_M, FrontRuns

    tie = [(0.19, -0.42), (0.22, -0.42), (0.32, -0.62), (0.29, -0.64)]  # knotted at the waist, hanging out
    mesh = flat_garment(TORSO, tie)
    scale = np.ptp(mesh.vertices[:, 0]) / 0.52  # the photo path centres and normalises the garment
    centre = (0.32 - 0.2) / 2
    points = np.array([[0.28 - centre, -0.58, 0], [-0.1 - centre, -0.3, 0]]) * scale  # the tie, the torso
    assert FrontRuns.of(mesh).sleeve_weight(points, BLEND_M).tolist() == [0, 0]


def test_a_t_shirt_sleeve_dipping_below_the_armpit_rows_stays_whole(body) -> None:
    """A short sleeve whose lower edge hangs below the first row of the torso's band: in the
    rows where the run goes on through it, it is still sleeve, so it turns whole instead of
    being cut across into two flaps with a strip left standing out from the torso."""
    from core.fitting.placement import BLEND_M, TORSO_BAND, FrontRuns, place

    sleeves = ([(0.2, -0.02), (0.36, -0.1), (0.33, -0.24), (0.2, -0.24)],
               [(-0.2, -0.02), (-0.36, -0.1), (-0.33, -0.24), (-0.2, -0.24)])
    assert TORSO_BAND[0] * 0.65 + 0.03 < 0.24  # the sleeve reaches into the band (too short to be laid)
    mesh = flat_garment(TORSO, *sleeves)
    scale = np.ptp(mesh.vertices[:, 0]) / 0.72
    points = np.array([[0.3, -0.12, 0], [0.3, -0.21, 0], [-0.3, -0.22, 0], [0.1, -0.21, 0]]) * scale
    weights = FrontRuns.of(mesh).sleeve_weight(points, BLEND_M)
    assert weights[:3].min() > 0.9 and weights[3] == 0
    placed = place(mesh, "top", body)
    pieces = [p for p in placed.split(only_watertight=False) if len(p.vertices) > 20]
    assert len(pieces) == 1
    for side in ("l", "r"):  # each sleeve ends below its shoulder, along the arm
        sign = 1.0 if side == "l" else -1.0
        shoulder, elbow = body.point(f"shoulder_{side}"), body.point(f"elbow_{side}")
        beyond = placed.vertices[sign * placed.vertices[:, 0] > sign * shoulder[0] + 0.05]
        assert beyond[:, 1].mean() < shoulder[1] - 0.3 * (shoulder[1] - elbow[1]) + 0.05


def test_a_sleeve_bends_at_the_elbow_onto_the_forearm() -> None:
    """The avatar's forearm reaches forward; a straight sleeve on the upper arm is bent about
    the elbow so that past it the sleeve runs along the forearm, and above it nothing moves."""
    from core.fitting.placement import BLEND_M, _bend_at_elbows

    shoulder, elbow, wrist = np.array([0.19, 1.5, 0.01]), np.array([0.37, 1.3, 0.02]), np.array([0.5, 1.18, 0.2])
    points = {"shoulder_l": shoulder, "elbow_l": elbow, "wrist_l": wrist}
    points |= {k.replace("_l", "_r"): p * [-1, 1, 1] for k, p in points.items()}
    upper = (elbow - shoulder) / np.linalg.norm(elbow - shoulder)
    t = np.linspace(0.0, 0.6, 61)
    sleeve = shoulder + np.outer(t, upper)  # straight on past the elbow, as it was turned
    sleeve = np.concatenate([sleeve, sleeve * [-1, 1, 1]])
    bent = _bend_at_elbows(sleeve, _Joints(points), np.ones(len(sleeve)))
    before = np.tile(t < np.linalg.norm(elbow - shoulder) - BLEND_M, 2)
    np.testing.assert_allclose(bent[before], sleeve[before])
    fore = (wrist - elbow) / np.linalg.norm(wrist - elbow)
    past = t > np.linalg.norm(elbow - shoulder) + BLEND_M
    for half, mirror in ((bent[:61][past], [1, 1, 1]), (bent[61:][past], [-1, 1, 1])):
        rel = half * mirror - elbow
        off = rel - np.outer(rel @ fore, fore)
        assert np.linalg.norm(off, axis=1).max() < 0.002  # on the forearm's line
        assert (rel @ fore > 0).all()
    untouched = _bend_at_elbows(sleeve, _Joints(points), np.zeros(len(sleeve)))
    np.testing.assert_array_equal(untouched, sleeve)  # the torso is not bent


@pytest.mark.parametrize("category,landmark", [("bottom", "ankle"), ("dress", "soles"), ("outer", "soles")])
def test_a_long_garment_ends_at_the_body_not_through_the_floor(body, category: str, landmark: str) -> None:
    """A flat-lay photo's length, scaled with its width, is not the wearer's: trousers twice as long as
    the legs still end at the ankles, a dress or a coat above the floor."""
    from core.fitting.placement import ANKLE_BELOW_M, FLOOR_CLEAR_M, lowest_hem, place

    long = trimesh.creation.box(extents=[0.40, 3.0, 0.05])
    long.apply_translation([0.0, -1.5, 0.0])  # origin at the top centre, as every garment
    placed = place(long, category, body)
    soles = float(body.mesh.bounds[0, 1])
    hem = float(placed.vertices[:, 1].min())
    assert hem >= soles + FLOOR_CLEAR_M - 0.02  # never through the floor
    if landmark == "ankle":
        ankle = (body.point("ankle_l")[1] + body.point("ankle_r")[1]) / 2
        assert abs(lowest_hem("bottom", body) - (ankle - ANKLE_BELOW_M)) < 1e-9
        assert hem <= ankle  # and still down to the ankles
    short = trimesh.creation.box(extents=[0.40, 0.30, 0.05])
    short.apply_translation([0.0, -0.15, 0.0])
    assert np.ptp(place(short, category, body).vertices[:, 1]) > 0.25  # a short one keeps its length
