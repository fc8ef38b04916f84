"""How much of the shoulders a top or dress covers, the holes in its torso and the flaps along its
open edges: cloth cut away with a closed garment's neck cap, or a torso with holes where its
sleeves were taken for it, leave skin bare, and a torso's corner left beside a sleeve's root sticks
out from the shoulder; no other figure of the report sees them (no cloth is inside the body, the
sleeves still enclose the arms, and a few points stretch no percentile)."""

from __future__ import annotations

import numpy as np
import trimesh
from trimesh.grouping import group_rows

from core.fitting.body import DIRECTIONS, BodyModel

# Stations from the neck to the shoulder joint: the outer part, where a sleeve hangs from (a boat
# neck is cut out to 0.7 of the shoulder's width: patterns.SLEEVED_NECK)
ALONG = (0.75, 0.85, 0.95)
ACROSS_M = (-0.03, 0.0, 0.03)  # and from front to back of the shoulder's seam line
TORSO_ROWS = 16  # heights from the waist up to the armpits (TORSO_TOP of the way from the chest to the neck)
TORSO_TOP = 0.4
# Cloth counts this far outside the body's outline (ease, a loose fit), not farther: a sleeve seen
# through a hole in the torso is not the torso.
TORSO_ROOM_M = 0.10


def shoulder_cover(garment: trimesh.Trimesh, body: BodyModel) -> float:
    """The share of rays cast straight down onto the shoulders' outer parts (ALONG x ACROSS_M per
    side) that meet the garment: 1 for a T-shirt worn on them, 0 for one worn off them or a bandeau."""
    if not len(garment.faces) or not all(name in body.landmarks for name in ("neck", "shoulder_l", "shoulder_r")):
        return 0.0
    neck = body.point("neck")
    top = float(body.mesh.bounds[1, 1]) + 0.1
    starts = np.array([[neck[0] + t * (body.point(f"shoulder_{side}")[0] - neck[0]), top,
                        body.point(f"shoulder_{side}")[2] + dz]
                       for side in "lr" for t in ALONG for dz in ACROSS_M])
    hits = garment.ray.intersects_any(starts, np.tile([0.0, -1.0, 0.0], (len(starts), 1)))
    return float(np.mean(hits))


def torso_holes(garment: trimesh.Trimesh, body: BodyModel) -> float:
    """The share of the torso's rays that find a hole in the cloth. Rays are cast out from the
    body's axis in each of the body sections' directions at TORSO_ROWS heights, waist to armpits,
    and meet the garment within TORSO_ROOM_M of the skin's outline, farther off, or not at all; in
    each direction, a ray that meets nothing between two that meet cloth above and below it looks
    through a hole. A neckline or a hem is where the cloth ends, not a hole (a camisole's low front
    is none), and cloth standing off is not one either (a flared top)."""
    if not len(garment.faces) or not all(name in body.landmarks for name in ("waist", "chest")):
        return 0.0
    waist, chest = body.point("waist")[1], body.point("chest")[1]
    ys = np.linspace(waist, chest + TORSO_TOP * (body.neck_base_y - chest), TORSO_ROWS)
    sections = body.sections
    centres, radii = sections.at(ys)[:, :2], sections.radii_at(ys)
    origins = np.repeat(np.column_stack([centres[:, 0], ys, centres[:, 1]]), len(DIRECTIONS), axis=0)
    directions = np.tile(np.column_stack([np.sin(DIRECTIONS), np.zeros(len(DIRECTIONS)), np.cos(DIRECTIONS)]),
                         (len(ys), 1))
    locations, ray, _ = garment.ray.intersects_location(origins, directions, multiple_hits=False)
    distance = np.full(len(origins), np.inf)
    distance[ray] = np.linalg.norm(locations - origins[ray], axis=1)
    hit = (distance <= radii.ravel() + TORSO_ROOM_M).reshape(len(ys), len(DIRECTIONS))
    bare = ~np.isfinite(distance).reshape(hit.shape)  # cloth farther off (a flared hem) is no hole
    above = np.maximum.accumulate(hit[::-1], axis=0)[::-1]  # cloth at this height or higher
    below = np.maximum.accumulate(hit, axis=0)  # cloth at this height or lower
    return float((bare & above & below).mean())


def flap_mm(garment: trimesh.Trimesh, body: BodyModel) -> float:
    """How far the garment's open edges stick out past themselves (mm, the most of any point on
    them): each open-edge point's distance off the skin less the mean of its neighbours' along the
    edge. A hem, a cuff or a neckline runs round the body at an even distance (a flared hem too,
    however far it flares), a flap's loose corner stands out of the edge it ends."""
    if not len(garment.faces):
        return 0.0
    edges = garment.edges_sorted
    open_edges = edges[group_rows(edges, require_count=1)]
    if not len(open_edges):
        return 0.0
    ends, edge = np.unique(open_edges, return_inverse=True)  # only the edges' own points are measured
    edge = edge.reshape(-1, 2)
    off, _ = body.surface.tree.query(garment.vertices[ends], workers=-1)
    count = np.bincount(edge.ravel(), minlength=len(ends))
    around = np.bincount(edge.ravel(), off[edge[:, ::-1]].ravel(), len(ends))  # each end: the other's
    return float(max((off - around / count).max(), 0.0) * 1000)
