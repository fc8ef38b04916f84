"""How much of the shoulders and the chest a top or dress covers: cloth cut away with a closed
garment's neck cap, a neckline pulled wide, or a torso with holes where its sleeves were taken for
it leave skin bare, and no other figure of the report sees it (no cloth is inside the body, the
sleeves still enclose the arms)."""

from __future__ import annotations

import numpy as np
import trimesh

from core.fitting.body import DIRECTIONS, BodyModel

ALONG = (0.5, 0.65, 0.8)  # stations from the neck (its own width is the first third) to the shoulder joint
ACROSS_M = (-0.03, 0.0, 0.03)  # and from front to back of the shoulder's seam line
CHEST_BAND = np.linspace(0.0, 0.5, 6)  # heights from the chest halfway down to the waist
# Cloth counts this far outside the body's outline (ease, a loose fit), not farther: a sleeve seen
# through a hole in the torso is not the torso.
TORSO_ROOM_M = 0.10


def shoulder_cover(garment: trimesh.Trimesh, body: BodyModel) -> float:
    """The share of rays cast straight down onto the shoulders (ALONG x ACROSS_M per side) that
    meet the garment: 1 for a T-shirt worn on them, 0 for one worn off them or a bandeau."""
    if not len(garment.faces) or not all(name in body.landmarks for name in ("neck", "shoulder_l", "shoulder_r")):
        return 0.0
    neck = body.point("neck")
    top = float(body.mesh.bounds[1, 1]) + 0.1
    starts = np.array([[neck[0] + t * (body.point(f"shoulder_{side}")[0] - neck[0]), top,
                        body.point(f"shoulder_{side}")[2] + dz]
                       for side in "lr" for t in ALONG for dz in ACROSS_M])
    hits = garment.ray.intersects_any(starts, np.tile([0.0, -1.0, 0.0], (len(starts), 1)))
    return float(np.mean(hits))


def torso_cover(garment: trimesh.Trimesh, body: BodyModel) -> float:
    """The share of rays cast out from the body's axis across the chest (CHEST_BAND, each of the
    body sections' directions) that meet the garment within TORSO_ROOM_M of the skin's outline:
    every top and dress covers the chest all round; 1 when it does."""
    if not len(garment.faces) or not all(name in body.landmarks for name in ("chest", "waist")):
        return 0.0
    chest, waist = body.point("chest")[1], body.point("waist")[1]
    ys = chest + CHEST_BAND * (waist - chest)
    sections = body.sections
    centres, radii = sections.at(ys)[:, :2], sections.radii_at(ys)
    origins = np.repeat(np.column_stack([centres[:, 0], ys, centres[:, 1]]), len(DIRECTIONS), axis=0)
    directions = np.tile(np.column_stack([np.sin(DIRECTIONS), np.zeros(len(DIRECTIONS)), np.cos(DIRECTIONS)]),
                         (len(ys), 1))
    reach = radii.ravel() + TORSO_ROOM_M
    locations, ray, _ = garment.ray.intersects_location(origins, directions, multiple_hits=False)
    hit = np.zeros(len(origins), bool)
    hit[ray[np.linalg.norm(locations - origins[ray], axis=1) <= reach[ray]]] = True
    return float(hit.mean())
