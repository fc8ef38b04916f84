"""Offline reconstructor: inflate the garment's silhouette into a closed, textured shell (no weights, CPU).

The photo is the front; the back takes the same texture coordinates, i.e. the front seen mirrored
from behind. The shell is built on a grid of square cells inside the mask, so its size follows a
face budget, and it comes out directly in the glTF frame with the origin at the garment's anchor
(the top centre: neckline for tops and dresses, waistband for bottoms).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import trimesh
from PIL import Image
from scipy import ndimage, sparse

from core.ai.segment import Cutout
from core.errors import InputError

# Real-world height (m) and half-depth of the torso part (m) per category: a size-M garment.
GARMENT_SIZE = {"top": (0.70, 0.11), "outer": (0.78, 0.13), "dress": (1.05, 0.11),
                "bottom": (1.00, 0.08)}
QUALITY = {"low": {"faces": 10_000, "texture": 512}, "med": {"faces": 40_000, "texture": 1024}}


@dataclass(frozen=True)
class Garment3D:
    mesh: trimesh.Trimesh
    category: str


def reconstruct(cutout: Cutout, category: str, quality: str) -> Garment3D:
    height_m, half_depth = GARMENT_SIZE[category]
    budget, tex_side = QUALITY[quality]["faces"], QUALITY[quality]["texture"]
    ys, xs = np.nonzero(cutout.mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    mask = cutout.mask[y0:y1, x0:x1]
    if min(mask.shape) < 8:
        raise InputError("The garment's outline is too thin to build a 3D shape from it.")
    rgb = cutout.rgb[y0:y1, x0:x1]
    # Each interior cell gives ~4 faces (2 front, 2 back): size the cells to fit the budget.
    cell_px = max(1.0, min(np.sqrt(mask.sum() * 4.4 / budget), min(mask.shape) / 8))
    rows, cols = max(2, int(np.ceil(mask.shape[0] / cell_px))), max(2, int(np.ceil(mask.shape[1] / cell_px)))
    cells = cv2.resize(mask.astype(np.float32), (cols, rows), interpolation=cv2.INTER_AREA) >= 0.5
    cells = _manifold_cells(cells)
    if not cells.any() or not ndimage.binary_erosion(cells, np.ones((2, 2), bool)).any():
        raise InputError("The garment's outline is too thin to build a 3D shape from it.")
    metres_per_cell = height_m / rows

    # Corners of the grid: (rows+1) x (cols+1). A corner is used when any cell around it is inside;
    # it is on the rim (shared by front and back, depth 0) when any cell around it is outside.
    pad = np.pad(cells, 1)
    around = np.stack([pad[:-1, :-1], pad[:-1, 1:], pad[1:, :-1], pad[1:, 1:]])
    used, interior = around.any(axis=0), around.all(axis=0)  # interior == used & ~rim
    dist = ndimage.distance_transform_edt(interior) * metres_per_cell
    ramp = half_depth
    depth = half_depth * np.sqrt(1.0 - (1.0 - np.minimum(dist, ramp) / ramp) ** 2)

    front_id = np.full(used.shape, -1)
    front_id[used] = np.arange(used.sum())
    back_only = used & interior
    back_id = front_id.copy()
    back_id[back_only] = used.sum() + np.arange(back_only.sum())

    ii, jj = np.nonzero(used)
    bi, bj = np.nonzero(back_only)

    def position(i, j, sign):
        return np.stack([j * metres_per_cell, -i * metres_per_cell, sign * depth[i, j]], axis=1)
    vertices = np.concatenate([position(ii, jj, 1.0), position(bi, bj, -1.0)])

    ci, cj = np.nonzero(cells)
    corners = [(ci, cj), (ci, cj + 1), (ci + 1, cj + 1), (ci + 1, cj)]  # a, b, c, d clockwise
    a, b, c, d = (front_id[i, j] for i, j in corners)
    ab, bb, cb, db = (back_id[i, j] for i, j in corners)
    # Split each cell along the diagonal through an inside corner, so that no triangle has all
    # three corners on the outline (front and back copies of it would coincide).
    ac = interior[ci, cj] | interior[ci + 1, cj + 1]
    front = np.where(ac[:, None, None],
                     np.stack([np.stack([a, d, c], 1), np.stack([a, c, b], 1)], 1),
                     np.stack([np.stack([a, d, b], 1), np.stack([b, d, c], 1)], 1)).reshape(-1, 3)
    back = np.where(ac[:, None, None],
                    np.stack([np.stack([ab, cb, db], 1), np.stack([ab, bb, cb], 1)], 1),
                    np.stack([np.stack([ab, bb, db], 1), np.stack([bb, cb, db], 1)], 1)).reshape(-1, 3)
    faces = np.concatenate([front, back])  # front counter-clockwise from +Z, back from -Z
    vertices[:, :2] = _smooth_outline(vertices[:, :2], front)
    # Texture coordinates follow the (smoothed) positions: the photo maps straight onto the front.
    uv = np.stack([vertices[:, 0] / (cols * metres_per_cell), 1.0 + vertices[:, 1] / (rows * metres_per_cell)], 1)
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    vertices -= [(lo[0] + hi[0]) / 2, hi[1], 0.0]  # the anchor: top centre
    texture = Image.fromarray(rgb).resize((tex_side, tex_side), Image.Resampling.LANCZOS)
    material = trimesh.visual.material.PBRMaterial(
        name="garment", baseColorTexture=texture, metallicFactor=0.0, roughnessFactor=0.9,
        doubleSided=False)
    mesh = trimesh.Trimesh(vertices, faces, process=False,
                           visual=trimesh.visual.TextureVisuals(uv=uv, material=material))
    return Garment3D(mesh=mesh, category=category)


def _smooth_outline(xy: np.ndarray, front: np.ndarray, iterations: int = 4) -> np.ndarray:
    """Laplacian smoothing of the outline only (in the image plane), so the grid's staircase
    becomes the garment's curve; inner vertices and depth are untouched."""
    edges = np.sort(np.concatenate([front[:, [0, 1]], front[:, [1, 2]], front[:, [2, 0]]]), axis=1)
    uniq, counts = np.unique(edges, axis=0, return_counts=True)
    outline = uniq[counts == 1]  # edges of one front face only: the front sheet's border
    n = len(xy)
    adj = sparse.coo_matrix((np.ones(2 * len(outline)), (np.r_[outline[:, 0], outline[:, 1]],
                                                         np.r_[outline[:, 1], outline[:, 0]])), shape=(n, n)).tocsr()
    degree = np.asarray(adj.sum(axis=1)).ravel()
    on = degree > 0
    out = xy.copy()
    for _ in range(iterations):
        mean = adj @ out
        out[on] = 0.5 * out[on] + 0.5 * mean[on] / degree[on, None]
    return out


def _rim_corners(cells: np.ndarray) -> np.ndarray:
    """Corners touching both an inside and an outside cell (shape (rows+1, cols+1))."""
    pad = np.pad(cells, 1)
    around = np.stack([pad[:-1, :-1], pad[:-1, 1:], pad[1:, :-1], pad[1:, 1:]])
    return around.any(axis=0) & ~around.all(axis=0)


def _manifold_cells(cells: np.ndarray) -> np.ndarray:
    """Trim the cells until front and back can meet only along the outline.

    An edge between two inside cells whose both ends lie on the outline (a one-cell neck, or a
    cell with no inside corner) would be shared by four faces once front and back are joined
    there; diagonal-only contacts would pinch. Removing one cell of each such place and keeping
    the largest piece converges in a few rounds.
    """
    cells = _largest_piece(cells)
    for _ in range(64):
        rim = _rim_corners(cells)
        bad = np.zeros_like(cells)
        # horizontal edges between (i-1, j) and (i, j): corners (i, j) and (i, j+1)
        bad[1:] |= cells[:-1] & cells[1:] & rim[1:-1, :-1] & rim[1:-1, 1:]
        # vertical edges between (i, j-1) and (i, j): corners (i, j) and (i+1, j)
        bad[:, 1:] |= cells[:, :-1] & cells[:, 1:] & rim[:-1, 1:-1] & rim[1:, 1:-1]
        # diagonal-only contacts
        diag = cells[:-1, :-1] & cells[1:, 1:] & ~cells[:-1, 1:] & ~cells[1:, :-1]
        anti = cells[:-1, 1:] & cells[1:, :-1] & ~cells[:-1, :-1] & ~cells[1:, 1:]
        bad[1:, 1:] |= diag
        bad[1:, :-1] |= anti
        if not bad.any():
            return cells
        cells = _largest_piece(cells & ~bad)
    return cells


def _largest_piece(cells: np.ndarray) -> np.ndarray:
    labels, n = ndimage.label(cells)
    if n <= 1:
        return cells
    sizes = ndimage.sum_labels(cells, labels, index=np.arange(1, n + 1))
    return labels == (np.argmax(sizes) + 1)
