"""A closed garment gets openings where the body leaves it (neck, hands, legs, waist), so that no
head, hand or foot ends up in a bag; an open garment is left as it is."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from core.ai.segment import Cutout
from core.ai.silhouette import reconstruct
from core.fitting.fit import FitLayer, fit
from core.fitting.openings import _segments, cut_openings
from core.mesh.cleanup import clean, closed
from core.samples import draw_garment
from tests.test_fitting import preset_body


@pytest.fixture(scope="module")
def body():
    return preset_body("average-man-175").prepared()


def _crossings(garment: trimesh.Trimesh, body) -> int:
    """How many times the body's exit bones (out through the neck, hands, feet) cross the garment."""
    segments = _segments(body)
    starts = np.array([s for s, _ in segments])
    axes = np.array([e for _, e in segments]) - starts
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
