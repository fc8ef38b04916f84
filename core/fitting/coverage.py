"""How much of the shoulders a top or dress covers, the holes in its torso and the flaps along its
open edges: cloth cut away with a closed garment's neck cap, or a torso with holes where its
sleeves were taken for it, leave skin bare, and a torso's corner left beside a sleeve's root sticks
out from the shoulder; no other figure of the report sees them (no cloth is inside the body, the
sleeves still enclose the arms, and a few points stretch no percentile)."""

from __future__ import annotations

import numpy as np
import trimesh
from scipy import ndimage
from trimesh.grouping import group_rows

from core.fitting.body import ANGLES, BodyModel

# Stations from the neck to the shoulder joint: the outer part, where a sleeve hangs from (a boat
# neck is cut out to 0.7 of the shoulder's width: patterns.SLEEVED_NECK)
ALONG = (0.75, 0.85, 0.95)
ACROSS_M = (-0.03, 0.0, 0.03)  # and from front to back of the shoulder's seam line
TORSO_ROWS = 16  # heights from the waist up to the armpits (TORSO_TOP of the way from the chest to the neck)
TORSO_TOP = 0.4
VIEWS = 8  # directions the torso is looked at from, round it (front, back, sides and between)
VIEW_STEP_M = 0.01  # between a view's rays, across it
VIEW_FROM_M = 0.5  # how far beyond the torso's outline a view's rays start
ARM_MARGIN_M = 0.01  # skin this far outside the torso's section outline is an arm's


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
    """The share of the torso, as a person looking at it sees it, where skin shows through the
    cloth. The torso (waist to armpits) is looked at from VIEWS directions round it with parallel
    rays a camera's way, from outside, each meeting the cloth or the skin first. A ray that meets
    the torso's own skin first (not an arm's) looks through a hole when cloth is seen above and
    below it in its column (a gap across the torso) or beside it on both sides in its row (a slit
    down the side: a sleeve's cloth wrapped onto the torso with the photo's gap between them),
    unless the view sees that skin open up out of the torso (a V's or a camisole's low front, an
    armhole, between straps: where the cloth ends). A hem ends the cloth too (none below it).
    Rays from the body's axis outwards missed the slit: through it they met the strip of cloth
    beyond."""
    if not len(garment.faces) or not all(name in body.landmarks for name in ("waist", "chest")):
        return 0.0
    waist, chest = body.point("waist")[1], body.point("chest")[1]
    ys = np.linspace(waist, chest + TORSO_TOP * (body.neck_base_y - chest), TORSO_ROWS)
    centres, reach = body.sections.at(ys)[:, :2], body.sections.radii_at(ys).max(axis=1)
    across = np.arange(-reach.max(), reach.max() + 1e-9, VIEW_STEP_M)
    angle = 2 * np.pi * np.arange(VIEWS) / VIEWS
    look = np.column_stack([-np.sin(angle), np.zeros(VIEWS), -np.cos(angle)])  # towards the axis
    side = np.column_stack([np.cos(angle), np.zeros(VIEWS), -np.sin(angle)])  # across the view
    axis = np.column_stack([centres[:, 0], ys, centres[:, 1]])  # (rows, 3)
    origins = (axis[None, :, None] - (reach.max() + VIEW_FROM_M) * look[:, None, None]
               + across[None, None, :, None] * side[:, None, None]).reshape(-1, 3)
    directions = np.repeat(look, len(ys) * len(across), axis=0)
    cloth_at, _ = _first_hits(garment, origins, directions)
    body_at, body_points = _first_hits(body.mesh, origins, directions)
    shape = (VIEWS, len(ys), len(across))
    within = (np.abs(across)[None, None, :] <= reach[None, :, None]).repeat(VIEWS, axis=0)  # the torso's width
    cloth = (cloth_at < body_at).reshape(shape) & within
    skin = ((body_at < cloth_at) & _torso_skin(body_points, body)).reshape(shape) & within

    def beyond(a: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
        """Whether there is cloth at or before each cell along `axis`, and at or after it."""
        ahead = np.maximum.accumulate(a, axis=axis)
        behind = np.flip(np.maximum.accumulate(np.flip(a, axis=axis), axis=axis), axis=axis)
        return ahead, behind

    below, above = beyond(cloth, 1)
    left, right = beyond(cloth, 2)
    holes = skin & ((below & above) | (left & right)) & ~_open_upwards(~cloth)
    return float(holes.sum() / max(within.sum(), 1))


def _open_upwards(bare: np.ndarray) -> np.ndarray:
    """Per view (VIEWS, rows bottom up, across), the `bare` cells (no cloth seen) joined to the
    top row through bare cells side by side or one above the other: openings that run up out of
    the torso. (A hole beside a bare arm joins it too, and is missed: an arm leaves through an
    opening, and a 2D view cannot tell a hole from an armhole's low end.)"""
    within_view = np.zeros((3, 3, 3), bool)  # joined in one view only
    within_view[1] = ndimage.generate_binary_structure(2, 1)
    labels, _ = ndimage.label(bare, structure=within_view)
    top = np.zeros(labels.max() + 1, bool)
    top[labels[:, -1].ravel()] = True
    top[0] = False
    return top[labels]


def _first_hits(mesh: trimesh.Trimesh, origins: np.ndarray, directions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance along each ray to its first hit on the mesh (inf: none), and the hit points."""
    distance, points = np.full(len(origins), np.inf), origins.copy()
    locations, ray, _ = mesh.ray.intersects_location(origins, directions, multiple_hits=False)
    distance[ray] = np.einsum("ij,ij->i", locations - origins[ray], directions[ray])
    points[ray] = locations
    return distance, points


def _torso_skin(points: np.ndarray, body: BodyModel) -> np.ndarray:
    """Which skin points are the torso's: on its section's outline at their height (within
    ARM_MARGIN_M of its radius towards them), not out on an arm beside it."""
    section = body.sections.at(points[:, 1])
    offset = points[:, [0, 2]] - section[:, :2]
    towards = np.round(np.arctan2(offset[:, 0], offset[:, 1]) / (2 * np.pi) * ANGLES).astype(int) % ANGLES
    radius = body.sections.radii_at(points[:, 1])[np.arange(len(points)), towards]
    return np.linalg.norm(offset, axis=1) <= radius + ARM_MARGIN_M


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
