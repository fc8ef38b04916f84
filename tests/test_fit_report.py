"""The fit report sees what a person sees: cloth inside the body between outside vertices, cloth
below the soles, how much of a limb a sleeve encloses, cloth standing off, asymmetry."""

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
from core.fitting import report
from core.fitting.body import BodyModel
from core.fitting.coverage import flap_mm, shoulder_cover, torso_holes
from core.fitting.fit import FitLayer, fit
from core.mesh.cleanup import clean
from core.samples import draw_garment

ARM = np.array([[0.0, 1.4, 0.0], [0.3, 1.4, 0.0], [0.6, 1.4, 0.0]])  # shoulder, elbow, wrist along +x
ARM_RADII = {"arm_l": np.array([0.04, 0.04])}


@pytest.fixture(scope="module")
def box() -> BodyModel:
    """A 20 cm cube: a watertight body whose inside is known exactly."""
    return BodyModel(trimesh.creation.box(extents=[0.2, 0.2, 0.2]), landmarks={"hips": [0.0, -1.0, 0.0]})


def tube(start: np.ndarray, end: np.ndarray, radius: float = 0.06) -> trimesh.Trimesh:
    """A sleeve: a tube round the bone from `start` to `end`, its caps removed (a sleeve is open)."""
    mesh = trimesh.creation.cylinder(radius=radius, segment=[start, end], sections=32)
    axis = (end - start) / np.linalg.norm(end - start)
    mesh.update_faces(np.abs(mesh.face_normals @ axis) < 0.5)
    return mesh


def test_a_face_crossing_the_body_is_inside_though_no_vertex_is(box) -> None:
    triangle = trimesh.Trimesh([[-0.3, -0.3, 0.0], [0.3, -0.3, 0.0], [0.0, 0.4, 0.0]], [[0, 1, 2]])
    assert not box.contains(triangle.vertices).any()  # a vertex count reads 0 %
    points, _ = trimesh.sample.sample_surface(triangle, report.SAMPLES, seed=0)
    share, deepest = report.surface_inside(points, box)
    # The cube's 20 × 20 cm section, less its 1 mm rim, out of the triangle's 0.21 m².
    assert share == pytest.approx(0.198**2 / 0.21, abs=0.01)
    assert deepest == pytest.approx(100.0, abs=2.0)  # the cube's centre


def test_a_garment_beside_the_body_is_not_inside(box) -> None:
    points, _ = trimesh.sample.sample_surface(tube(np.array([0.3, -0.2, 0]), np.array([0.3, 0.2, 0])), 5000, seed=0)
    assert report.surface_inside(points, box) == (0.0, 0.0)


def test_cloth_below_the_soles_is_reported(box) -> None:
    through = trimesh.Trimesh([[-0.3, -0.15, 0.2], [0.3, -0.15, 0.2], [0.0, 0.0, 0.2]], [[0, 1, 2]])
    above = through.copy()
    above.vertices += [0, 0.06, 0]
    assert report.below_soles_mm(through, box) == pytest.approx(50.0)
    assert report.below_soles_mm(above, box) == 0.0


def test_a_full_sleeve_encloses_the_whole_arm() -> None:
    profile = report.limb_enclosure(tube(ARM[0], ARM[2]), {"arm_l": ARM}, ARM_RADII)["arm_l"]
    assert report._measured(profile[0]) == 1.0 and report._measured(profile[1]) == 1.0
    assert report.cuff_reach(profile, ARM) == pytest.approx(1.0)


def test_a_sleeve_to_mid_forearm_encloses_half_of_it_and_none_of_the_upper_arm() -> None:
    half = tube(ARM[1], (ARM[1] + ARM[2]) / 2)
    upper, fore = report.limb_enclosure(half, {"arm_l": ARM}, ARM_RADII)["arm_l"]
    assert report._measured(upper) == 0.0
    assert report._measured(fore) == pytest.approx(0.5, abs=0.08)
    assert report.cuff_reach(np.array([upper, fore]), ARM) == pytest.approx(0.75, abs=0.03)


def test_cloth_far_off_the_limb_does_not_enclose_it() -> None:
    wide = tube(ARM[0], ARM[2], radius=0.04 + report.REACH_MARGIN["arm"] + 0.02)
    profile = report.limb_enclosure(wide, {"arm_l": ARM}, ARM_RADII)["arm_l"]
    assert profile.max() == 0.0 and report.cuff_reach(profile, ARM) == 0.0


def test_wide_trouser_legs_still_hide_the_legs() -> None:
    leg = np.array([[0.1, 0.9, 0.0], [0.1, 0.5, 0.0], [0.1, 0.1, 0.0]])  # hip, knee, ankle
    wide = tube(leg[0], leg[2], radius=0.05 + report.REACH_MARGIN["arm"] + 0.03)  # beyond a sleeve's reach
    thigh, shin = report.limb_enclosure(wide, {"leg_l": leg}, {"leg_l": np.array([0.05, 0.04])})["leg_l"]
    assert report._measured(thigh) == 1.0 and report._measured(shin) == 1.0


@settings(max_examples=25, deadline=None)
@given(direction=st.tuples(st.floats(-1, 1), st.floats(-1, 1), st.floats(-1, 1)).filter(
           lambda d: np.linalg.norm(d) > 0.2),
       short=st.floats(0.05, 1.0), extra=st.floats(0.0, 1.0))
def test_enclosure_is_a_share_and_grows_with_the_sleeve(direction, short, extra) -> None:
    axis = np.asarray(direction) / np.linalg.norm(direction) * 0.3
    arm = np.array([[0.0, 0.0, 0.0], axis, 2 * axis])
    long = min(1.0, short + extra)
    shares = [report.limb_enclosure(tube(arm[1], arm[1] + f * axis), {"arm_l": arm}, ARM_RADII)["arm_l"][1]
              for f in (short, long)]
    measured = [report._measured(s) for s in shares]
    assert all(0.0 <= m <= 1.0 for m in measured)
    assert measured[0] <= measured[1]
    assert (shares[0] <= shares[1]).all()


def test_symmetry_is_near_zero_for_a_symmetric_garment_and_grows_when_shifted() -> None:
    sleeves = trimesh.util.concatenate([tube(np.array([x, 1.0, 0]), np.array([x, 1.4, 0])) for x in (-0.3, 0.3)])
    points, faces = trimesh.sample.sample_surface(sleeves, report.SAMPLES, seed=0)
    mean, p95 = report.symmetry_mm(points, sleeves.face_normals[faces], 0.0)
    assert mean < 1.0 and p95 < 3.0
    shifted_mean, _ = report.symmetry_mm(points, sleeves.face_normals[faces], 0.05)
    assert shifted_mean > 50.0


def test_standoff_counts_cloth_far_off_the_skin(box) -> None:
    near = tube(np.array([0.0, -0.1, 0]), np.array([0.0, 0.1, 0]), radius=0.15)  # 5 cm off the cube's faces
    far = tube(np.array([0.0, -0.1, 0]), np.array([0.0, 0.1, 0]), radius=0.3)
    for garment, expected in ((near, 0.0), (far, 1.0)):
        points, _ = trimesh.sample.sample_surface(garment, 5000, seed=0)
        assert report.standoff_share(points, box) == expected


@pytest.fixture(scope="module")
def body() -> BodyModel:
    meta = json.loads((PRESETS_DIR / "average-man-175.json").read_text())
    return BodyModel(trimesh.load(PRESETS_DIR / "average-man-175.glb", force="mesh"), meta["landmarks"],
                     meta["measurements"])


def test_hem_level_names_the_landmarks_it_falls_between(body) -> None:
    knee, crotch = body.point("knee_l")[1], body.point("crotch")[1]
    assert report.hem_level((knee + crotch) / 2, body) == "between knee and crotch"
    assert report.hem_level(-0.01, body) == "below the soles"
    assert report.hem_level(2.0, body) == "above the neck"


def test_the_fit_report_of_every_layer_carries_the_surface_figures(body) -> None:
    photo, mask = draw_garment("top")
    top = clean(reconstruct(Cutout(np.asarray(photo), mask, "t"), "top", "low").mesh)
    result = fit([FitLayer(top, "top", "top")], body)
    (layer,) = result.metrics["layers"]
    json.dumps(result.metrics)  # stored as JSON on the FittingSession
    assert layer["surface_samples"] >= 20_000
    assert 0.0 <= layer["surface_inside_share"] <= 1.0 and layer["surface_deepest_mm"] >= 0.0
    assert result.metrics["surface_inside_share"] == layer["surface_inside_share"]
    assert set(layer["enclosure"]) == {f"{bone}_{side}" for bone in ("upper_arm", "upper_arm_top", "forearm", "thigh",
                                                                     "shin") for side in "lr"}
    assert all(0.0 <= v <= 1.0 for v in [*layer["enclosure"].values(), *layer["reach"].values()])
    assert layer["enclosure"]["shin_l"] == layer["enclosure"]["shin_r"] == 0.0  # a top never reaches the shins
    assert layer["below_soles_mm"] == 0.0 and layer["hem_at"].startswith("between")
    assert layer["report_s"] < 1.0


def test_shoulder_cover_sees_bare_shoulders(body) -> None:
    """A slab across both shoulders covers them; a band below the armpits (a bandeau, or a top whose
    shoulders were cut off) covers none; half a slab, half."""
    neck, left, right = (body.point(n) for n in ("neck", "shoulder_l", "shoulder_r"))
    y = max(left[1], right[1]) + 0.03

    def slab(x0: float, x1: float, height: float) -> trimesh.Trimesh:
        box = trimesh.creation.box(extents=[x1 - x0, 0.01, 0.3])
        box.apply_translation([(x0 + x1) / 2, height, neck[2]])
        return box

    assert shoulder_cover(slab(right[0] - 0.05, left[0] + 0.05, y), body) == 1.0
    half = slab(min(neck[0], left[0]) - 0.001, max(neck[0], left[0]) + 0.05, y)
    assert shoulder_cover(half, body) == 0.5
    assert shoulder_cover(trimesh.Trimesh(), body) == 0.0


def test_torso_holes_are_seen_and_a_neckline_is_not_one(body) -> None:
    """A tube round the torso (clear of the shoulders) has no holes; a window cut through its
    front and back at the chest is one; a slit down its side, from the chest out through the hem
    (a sleeve's cloth wrapped onto the torso with the photo's gap between them: rays out from the
    body's axis saw none, it has no cloth below it), is one; a tube ending at the chest (a bandeau,
    a camisole's low front) only ends there; a tube standing far off the body hides the skin."""
    waist, neck = body.point("waist")[1], body.neck_base_y
    mid = (waist + neck) / 2
    centre = np.array([0.0, mid, body.sections.at(np.array([mid]))[0, 1]])  # the sections' own centre
    radius = 0.22

    def tube(radius: float, top: float = neck + 0.1) -> trimesh.Trimesh:
        mesh = trimesh.creation.cylinder(radius=radius, segment=[[0, waist - 0.1, 0], [0, top, 0]], sections=64)
        mesh.apply_translation([centre[0], 0.0, centre[2]])
        mesh.update_faces(np.abs(mesh.face_normals[:, 1]) < 0.5)  # open at both ends
        return trimesh.Trimesh(*trimesh.remesh.subdivide_to_size(mesh.vertices, mesh.faces, 0.02))

    snug = tube(radius)
    assert torso_holes(snug, body) == 0.0
    chest = body.point("chest")[1]
    window, slit = snug.copy(), snug.copy()
    x, y = window.triangles_center[:, 0] - centre[0], window.triangles_center[:, 1]
    window.update_faces(~((x > 0.03) & (x < 0.13) & (np.abs(y - chest) < 0.05)))  # front and back
    assert 0.01 < torso_holes(window, body) < 0.1
    centres = slit.triangles_center
    around = np.arctan2(centres[:, 0] - centre[0], centres[:, 2] - centre[2])  # from the front towards +x
    slit.update_faces(~((np.abs(around - np.radians(70)) < 0.04 / radius) & (centres[:, 1] < chest)))  # 8 cm wide
    assert 0.01 < torso_holes(slit, body) < 0.1
    assert torso_holes(tube(radius, top=chest), body) == 0.0
    assert torso_holes(tube(0.6), body) == 0.0
    assert torso_holes(trimesh.Trimesh(), body) == 0.0


def test_a_flap_sticking_out_of_an_open_edge_is_seen_and_a_flared_hem_is_not_one(body) -> None:
    """A tube round the torso, open at both ends, has no flap; one of its hem's points pulled 3 cm
    out (a torso's corner left beside a sleeve's root) is one of about 3 cm; a hem flared out as a
    cone, each point with the cloth above it, is none."""
    waist, chest = body.point("waist")[1], body.point("chest")[1]
    centre = body.sections.at(np.array([chest]))[0]
    mesh = trimesh.creation.cylinder(radius=0.2, segment=[[centre[0], waist, centre[1]], [centre[0], chest, centre[1]]],
                                     sections=64)
    mesh.update_faces(np.abs(mesh.face_normals[:, 1]) < 0.5)  # open at both ends
    snug = trimesh.Trimesh(*trimesh.remesh.subdivide_to_size(mesh.vertices, mesh.faces, 0.02))
    assert flap_mm(snug, body) < 8
    flap = snug.copy()
    corner = int(np.argmin(flap.vertices[:, 1] - 1e-3 * flap.vertices[:, 0]))  # a point of the hem
    direction = flap.vertices[corner] - [centre[0], flap.vertices[corner, 1], centre[1]]
    flap.vertices[corner] += 0.03 * direction / np.linalg.norm(direction)
    assert 20 < flap_mm(flap, body) < 35
    flared = snug.copy()
    below = (chest - flared.vertices[:, 1]) / (chest - waist)  # 0 at the top, 1 at the hem
    out = flared.vertices - [centre[0], 0.0, centre[1]]
    out[:, 1] = 0
    flared.vertices += 0.1 * below[:, None] * out / np.linalg.norm(out, axis=1, keepdims=True)
    assert flap_mm(flared, body) < 8
    assert flap_mm(trimesh.Trimesh(), body) == 0.0
