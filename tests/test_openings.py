"""A closed garment gets openings where the body leaves it (neck, hands, legs, waist), so that no
head, hand or foot ends up in a bag; an open garment is left as it is."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from core.ai.segment import Cutout
from core.ai.silhouette import reconstruct
from core.fitting.coverage import shoulder_cover
from core.fitting.fit import FitLayer, fit
from core.fitting.limbs import limb_radius
from core.fitting.openings import LIMB_EXITS, LIMB_ROOM_M, _segments, cap_faces, cut_openings, is_closed
from core.jobs.fitting import stored_openings
from core.mesh.cleanup import clean, closed, opening_count
from core.samples import draw_garment
from tests.test_fitting import preset_body


@pytest.fixture(scope="module")
def body():
    return preset_body("average-man-175").prepared()


def _crossings(garment: trimesh.Trimesh, body) -> int:
    """How many times the body's exit bones (out through the neck, hands, feet) cross the garment."""
    segments = _segments(body)
    starts = np.array([s for s, _, _ in segments])
    axes = np.array([e for _, e, _ in segments]) - starts
    lengths = np.linalg.norm(axes, axis=1)
    locations, ray, _ = garment.ray.intersects_location(starts + 0.0011, axes / lengths[:, None], multiple_hits=True)
    return int((np.einsum("ij,ij->i", locations - starts[ray] - 0.0011, axes[ray] / lengths[ray, None])
                <= lengths[ray]).sum())


def test_a_closed_sleeve_round_the_forearm_is_opened_at_both_ends(body) -> None:
    elbow, wrist = body.point("elbow_l"), body.point("wrist_l")
    axis = (wrist - elbow) / np.linalg.norm(wrist - elbow)
    sleeve = trimesh.creation.cylinder(radius=0.06, segment=[elbow + 0.05 * axis, wrist + 0.03 * axis], sections=24)
    assert sleeve.is_watertight
    opened, count = cut_openings(sleeve, body)
    assert count == 2
    assert len(opened.outline().entities) == 2  # a tube open at both ends
    side = np.abs(sleeve.face_normals @ axis) < 0.5
    assert len(opened.faces) >= side.sum()  # its side is kept whole


def test_a_wrapped_limb_s_cap_reaches_no_further_than_the_limb(body) -> None:
    """A sheet across the upper arm's bone, as wide as a torso's side round an armhole (a filled
    mesh's sleeve capped inside its armhole, flush with the side): the limbs' caps cut the disc
    round the bone, within LIMB_ROOM_M of the arm; unbounded (as a hem's round the legs), the whole
    sheet went, and the torso's side with it."""
    shoulder, elbow = body.point("shoulder_l"), body.point("elbow_l")
    axis = (elbow - shoulder) / np.linalg.norm(elbow - shoulder)
    sheet = trimesh.creation.box(extents=(0.6, 0.6, 0.001)).subdivide().subdivide().subdivide()
    sheet.apply_transform(trimesh.geometry.align_vectors([0, 0, 1], axis))
    sheet.apply_translation((shoulder + elbow) / 2)
    centres = sheet.triangles_center - (shoulder + elbow) / 2
    off_axis = np.linalg.norm(centres - (centres @ axis)[:, None] * axis, axis=1)
    bounded, count = cap_faces(sheet, body, LIMB_EXITS, room=LIMB_ROOM_M)
    assert count >= 1 and bounded.any()
    reach = float(limb_radius(body, ((shoulder + elbow) / 2)[None])[0]) + LIMB_ROOM_M
    assert off_axis[bounded].max() < reach + 0.01  # the disc round the arm
    whole, _ = cap_faces(sheet, body, LIMB_EXITS)
    assert whole.sum() > 3 * bounded.sum()  # unbounded, the sheet


def test_an_open_garment_is_not_cut(body) -> None:
    image, mask = draw_garment("top")
    garment = clean(reconstruct(Cutout(np.asarray(image), mask, "drawn"), "top", "low").mesh)
    result = fit([FitLayer(garment, "top", "top")], body)
    assert result.metrics["layers"][0]["openings_cut"] == 0


@pytest.mark.parametrize("category", ["top", "dress", "bottom"])
def test_a_closed_garment_is_fitted_with_its_openings_cut(body, category) -> None:
    image, mask = draw_garment(category)
    garment = closed(clean(reconstruct(Cutout(np.asarray(image), mask, "drawn"), category, "low").mesh))
    assert garment.is_watertight
    result = fit([FitLayer(garment, category, category)], body)
    layer = result.metrics["layers"][0]
    assert layer["openings_cut"] >= (2 if category == "bottom" else 3)
    assert _crossings(result.garments[0], body) == 0  # head, hands and feet all come out


def test_a_closed_top_keeps_its_shoulders(body) -> None:
    """The neck's cap lies in the plane of the shoulders, which face up as it does: cut as one piece
    with it, a T-shirt would be worn off the shoulders (and the report would say so)."""
    image, mask = draw_garment("top")
    garment = closed(clean(reconstruct(Cutout(np.asarray(image), mask, "drawn"), "top", "low").mesh))
    result = fit([FitLayer(garment, "top", "top")], body)
    fitted = result.garments[0]
    assert shoulder_cover(fitted, body) == result.metrics["layers"][0]["shoulder_cover"] >= 0.8
    assert _crossings(fitted, body) == 0  # and the head still comes out


def test_a_pinhole_leaves_a_garment_closed_and_an_opening_does_not() -> None:
    """A filled mesh keeps a few flaws (a missing face, edges round a non-manifold seam): no hand
    goes through them, so its caps are still cut. An opening a wrist passes through makes it open."""
    sleeve = trimesh.creation.cylinder(radius=0.05, height=0.5, sections=32)
    pinhole = sleeve.copy()
    pinhole.update_faces(np.arange(len(pinhole.faces)) != int(np.argmax(pinhole.face_normals[:, 2])))  # 11 cm round
    assert not pinhole.is_watertight and is_closed(pinhole) and opening_count(pinhole) == 0
    cuff = sleeve.copy()  # one end cut off: a loop 31 cm round
    cuff.update_faces(cuff.face_normals[:, 2] < 0.5)
    assert not is_closed(cuff) and opening_count(cuff) == 1


def test_a_stored_garment_s_openings_say_whether_it_is_closed_and_hostile_stats_are_ignored() -> None:
    """The fit takes the openings counted when the garment was made rather than count them again;
    a record's stats that are no count (a client's import, an old row) leave the count to the fit."""
    cuff = trimesh.creation.cylinder(radius=0.1, height=0.3)
    assert FitLayer(cuff, "top", "top", openings=0).closed() and not FitLayer(cuff, "top", "top", openings=2).closed()
    assert FitLayer(cuff, "top", "top").closed() == is_closed(cuff)
    for stats, count in (({"openings": 3}, 3), ({"openings": 0}, 0), ({"openings": True}, None),
                         ({"openings": -1}, None), ({"openings": "4"}, None), ({}, None), (None, None)):
        assert stored_openings(stats) == count
