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
from scipy import ndimage

from core.ai.segment import Cutout

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
    rgb = cutout.rgb[y0:y1, x0:x1]
    # Each interior cell gives ~4 faces (2 front, 2 back): size the cells to fit the budget.
    cell_px = max(1.0, np.sqrt(mask.sum() * 4.4 / budget))
    rows, cols = max(2, int(np.ceil(mask.shape[0] / cell_px))), max(2, int(np.ceil(mask.shape[1] / cell_px)))
    cells = cv2.resize(mask.astype(np.float32), (cols, rows), interpolation=cv2.INTER_AREA) >= 0.5
    cells = _largest_piece(cells)
    metres_per_cell = height_m / rows

    # Corners of the grid: (rows+1) x (cols+1). A corner is used when any cell around it is inside;
    # it is on the rim (shared by front and back, depth 0) when any cell around it is outside.
    pad = np.pad(cells, 1)
    around = np.stack([pad[:-1, :-1], pad[:-1, 1:], pad[1:, :-1], pad[1:, 1:]])
    used, interior = around.any(axis=0), around.all(axis=0)
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
    cx = cols / 2.0
    def position(i, j, sign):
        return np.stack([(j - cx) * metres_per_cell, -i * metres_per_cell, sign * depth[i, j]], axis=1)
    vertices = np.concatenate([position(ii, jj, 1.0), position(bi, bj, -1.0)])
    uv_of = lambda i, j: np.stack([j / cols, 1.0 - i / rows], axis=1)  # noqa: E731
    uv = np.concatenate([uv_of(ii, jj), uv_of(bi, bj)])

    ci, cj = np.nonzero(cells)
    a, b = front_id[ci, cj], front_id[ci, cj + 1]
    c, d = front_id[ci + 1, cj + 1], front_id[ci + 1, cj]
    ab, bb, cb, db = back_id[ci, cj], back_id[ci, cj + 1], back_id[ci + 1, cj + 1], back_id[ci + 1, cj]
    faces = np.concatenate([
        np.stack([a, d, c], 1), np.stack([a, c, b], 1),        # front, counter-clockwise from +Z
        np.stack([ab, cb, db], 1), np.stack([ab, bb, cb], 1),  # back, counter-clockwise from -Z
    ])
    texture = Image.fromarray(rgb).resize((tex_side, tex_side), Image.Resampling.LANCZOS)
    material = trimesh.visual.material.PBRMaterial(
        name="garment", baseColorTexture=texture, metallicFactor=0.0, roughnessFactor=0.9,
        doubleSided=False)
    mesh = trimesh.Trimesh(vertices, faces, process=False,
                           visual=trimesh.visual.TextureVisuals(uv=uv, material=material))
    return Garment3D(mesh=mesh, category=category)


def _largest_piece(cells: np.ndarray) -> np.ndarray:
    labels, n = ndimage.label(cells)
    if n <= 1:
        return cells
    sizes = ndimage.sum_labels(cells, labels, index=np.arange(1, n + 1))
    return labels == (np.argmax(sizes) + 1)
