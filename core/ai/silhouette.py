"""Offline reconstructor: inflate the garment's silhouette into a textured shell (no weights, CPU).

The cut-out is divided into square cells sized to the face budget. Each cell gives two front
triangles (the photo, facing +Z) and two back triangles. The texture holds two halves: the front's
box from the photo on the left, the back on the right (core/ai/fabric.py: a back photo registered
to the front's outline, or the garment's own fabric without the front's prints; never the front
mirrored). Front and back meet along the outline, except where the real garment is open (neck,
hem, sleeve ends; waist and leg ends of bottoms): there the shell stays open with its full depth,
so that a body fits through, as in a worn garment. Along the outline each point is two vertices,
the front's and the back's, at one position (their texture coordinates differ): the surface is
one cloth welded by position (core/mesh/cleanup.py: `welded`), and its exported normals are
smooth across that seam (core/mesh/export.py).

Depth follows the distance to the outline: round where the garment is narrow (sleeves, legs:
a circular section of the local half-width), flat at the category's depth across the torso. The
mesh comes out in the glTF frame (metres, +Y up, facing +Z) with the origin at the garment's
anchor, the top centre: neckline for tops and dresses, waistband for bottoms.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np
import trimesh
from PIL import Image
from scipy import ndimage, sparse

from core.ai.fabric import BackTexture, back_texture
from core.ai.segment import Cutout, fill_background
from core.ai.shell_grid import corner_depth, manifold_cells, shell_faces
from core.errors import InputError
from core.garment.gaps import torso_gaps
from core.garment.parse import GarmentParse, parse_mask, part_labels
from core.garment.patterns import SHAPES
from core.garment.registry import PARTS, REGISTRY
from core.quality import QUALITY

EXTENSION_M = 0.15  # how far an opening is continued outwards when measuring depth
HEM_ROOM = 0.03  # of the garment's height: how far the outline's hem may lie from the parse's
GAP_INSET_PX = 3  # texture pixels inside the outline the torso's gaps take their colour from
ARM_ROWS_ROOM = 1  # cells the rows of an arm's opening reach past the parse's landmarks (its fit is this rough)


@dataclass(frozen=True)
class Garment3D:
    mesh: trimesh.Trimesh
    category: str
    timings: dict[str, float] = field(default_factory=dict)  # the reconstructor's own stages
    stats: dict = field(default_factory=dict)  # what the job's stats say of how it was made (the back, the GPU run)


def reconstruct(cutout: Cutout, category: str, quality: str, back: Cutout | None = None,
                parse: GarmentParse | None = None) -> Garment3D:
    """The shell of the garment's silhouette; `back` is the cut-out of an optional back photo;
    `parse` the mask's parse as the category's (parsed here without it): where its arms pass."""
    parse = parse if parse is not None and parse.category == category else parse_mask(cutout.mask, category)
    height_m, half_depth = REGISTRY[category].length_m, REGISTRY[category].half_depth_m
    budget, tex_side = QUALITY[quality].shell_faces, QUALITY[quality].texture_px
    ys, xs = np.nonzero(cutout.mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    photo_mask = cutout.mask[y0:y1, x0:x1]
    if min(photo_mask.shape) < 8:
        raise InputError("The garment's outline is too thin to build a 3D shape from it.")
    gaps = torso_gaps(photo_mask, parse)  # the torso's cloth where its sleeves lay beside it
    mask = photo_mask | gaps
    # Each cell gives ~4 faces (2 front, 2 back): size the cells to fit the budget.
    cell_px = max(1.0, min(np.sqrt(mask.sum() * 4.4 / budget), min(mask.shape) / 8))
    rows, cols = max(2, int(np.ceil(mask.shape[0] / cell_px))), max(2, int(np.ceil(mask.shape[1] / cell_px)))
    cells = manifold_cells(cv2.resize(mask.astype(np.float32), (cols, rows), interpolation=cv2.INTER_AREA) >= 0.5)
    if not cells.any() or not ndimage.binary_erosion(cells, np.ones((2, 2), bool)).any():
        raise InputError("The garment's outline is too thin to build a 3D shape from it.")
    metres_per_cell = height_m / rows
    pad = int(np.ceil(EXTENSION_M / metres_per_cell)) + 1
    cells = np.pad(cells, pad)
    ext = _openings(cells, parse, pad)

    used, seam, depth = corner_depth(cells, ext, pad, metres_per_cell, half_depth)

    # Every corner is a front and a back vertex; on the seam both lie at depth 0, one point.
    n_front = int(used.sum())
    front_id = np.full(used.shape, -1)
    front_id[used] = np.arange(n_front)
    back_id = np.where(used, front_id + n_front, -1)

    ii, jj = np.nonzero(used)
    vertices = np.concatenate([
        np.stack([jj, -ii, depth[ii, jj] / metres_per_cell], axis=1),
        np.stack([jj, -ii, -depth[ii, jj] / metres_per_cell], axis=1),
    ]).astype(np.float64) * metres_per_cell

    front, faces = shell_faces(cells, seam, front_id, back_id)

    smooth_xy = _smooth_outline(vertices[:n_front, :2], front)
    vertices[:n_front, :2] = smooth_xy
    vertices[n_front:, :2] = smooth_xy  # back copies follow their front vertex
    # Texture coordinates follow the (smoothed) positions: the photo maps straight onto the front,
    # in the texture's left half; the back takes the same place in the right half.
    col_pos = np.clip(vertices[:, 0] / metres_per_cell - pad, 0, cols) / cols
    row_pos = np.clip(-vertices[:, 1] / metres_per_cell - pad, 0, rows) / rows
    uv = np.stack([0.5 * col_pos + np.repeat([0.0, 0.5], n_front), 1.0 - row_pos], axis=1)
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    vertices -= [(lo[0] + hi[0]) / 2, hi[1], 0.0]  # the anchor: top centre

    texture, back_tex, timings = _texture(cutout.rgb[y0:y1, x0:x1], photo_mask, tex_side, back, gaps)
    material = trimesh.visual.material.PBRMaterial(
        name="garment", baseColorTexture=texture, metallicFactor=0.0, roughnessFactor=0.9,
        doubleSided=True)  # open garments show their inside
    mesh = trimesh.Trimesh(vertices, faces, process=False,
                           visual=trimesh.visual.TextureVisuals(uv=uv, material=material))
    return Garment3D(mesh=mesh, category=category, timings=timings, stats={"back": back_tex.stats})




def _texture(rgb: np.ndarray, mask: np.ndarray, tex_side: int, back: Cutout | None,
             gaps: np.ndarray) -> tuple[Image.Image, BackTexture, dict[str, float]]:
    """The texture: the garment's box at the texture's size, every backdrop pixel taking the colour
    of the nearest garment pixel, so lookups at the outline never pick up the backdrop; then the
    back in the same layout. The torso's `gaps` (cloth where the photo shows the backdrop) take
    the colour of the nearest cloth GAP_INSET_PX inside the outline: the outline's own pixels are
    part backdrop, and a gap filled from them was a pale strip down each side. Returns the image,
    the back texture and its timing."""
    tex_rgb = cv2.resize(rgb, (tex_side, tex_side), interpolation=cv2.INTER_AREA)
    tex_mask = cv2.resize(mask.astype(np.uint8), (tex_side, tex_side), interpolation=cv2.INTER_NEAREST) > 0
    front_tex = fill_background(tex_rgb, tex_mask)
    tex_gaps = cv2.resize(gaps.astype(np.uint8), (tex_side, tex_side), interpolation=cv2.INTER_NEAREST) > 0
    inner = ndimage.binary_erosion(tex_mask, iterations=GAP_INSET_PX)
    if tex_gaps.any() and inner.any():
        front_tex[tex_gaps] = fill_background(tex_rgb, inner)[tex_gaps]
    t0 = time.perf_counter()
    back_tex = back_texture(front_tex, tex_mask, back)
    timings = {"back": round(time.perf_counter() - t0, 4)}
    return Image.fromarray(np.concatenate([front_tex, back_tex.rgb], axis=1)), back_tex, timings


def _openings(cells: np.ndarray, parse: GarmentParse, length: int) -> np.ndarray:
    """Outside cells that continue the garment through its openings, `length` cells long.

    Found from the silhouette's layout and its parse: the hem (or leg ends) is the lowest outline,
    and a bodice's hem where its parse has it (`_hem_columns`); the waist of bottoms the highest;
    the neck is the top of the central fifth; sleeve ends are the outermost outline of the rows
    where the arms leave it (`_arm_rows`): a sleeveless boxy top's straight sides are its widest
    too, and are sewn below the armpits.
    """
    n_rows, n_cols = cells.shape
    rows_in, cols_in = np.flatnonzero(cells.any(axis=1)), np.flatnonzero(cells.any(axis=0))
    r0, r1, c0, c1 = rows_in[0], rows_in[-1], cols_in[0], cols_in[-1]
    h, w = r1 - r0 + 1, c1 - c0 + 1
    ii, jj = np.arange(n_rows)[:, None], np.arange(n_cols)[None, :]
    has_col, has_row = cells.any(axis=0), cells.any(axis=1)
    top = np.argmax(cells, axis=0)
    bottom = n_rows - 1 - np.argmax(cells[::-1], axis=0)
    left = np.argmax(cells, axis=1)
    right = n_cols - 1 - np.argmax(cells[:, ::-1], axis=1)
    ext = np.zeros_like(cells)
    kinds = REGISTRY[parse.category].openings
    points = SHAPES[parse.shape].points(parse.x)
    if "hem" in kinds or "legs" in kinds:
        sel = has_col & ((bottom >= r1 - max(1, 0.03 * h)) | _hem_columns(points, bottom, r0, h, (c0 + c1) / 2))
        ext |= sel[None, :] & (ii > bottom[None, :]) & (ii <= bottom[None, :] + length)
    if "waist" in kinds:
        sel = has_col & (top <= r0 + max(1, 0.03 * h))
        ext |= sel[None, :] & (ii < top[None, :]) & (ii >= top[None, :] - length)
    if "neck" in kinds:
        sel = has_col & (np.abs(jj[0] - (c0 + c1) / 2) <= 0.1 * w)
        ext |= sel[None, :] & (ii < top[None, :]) & (ii >= r0 - length)
    if "sleeves" in kinds:
        arms, armholes = _arm_rows(points, parse.kind, r0, h, n_rows)
        arms &= has_row
        lu, ru = left[arms].min(), right[arms].max()  # those rows' own extent (a skirt flares wider)
        margin = np.inf if armholes else max(1, 0.05 * (ru - lu))  # an armhole's whole curve, or the ends
        rows = np.arange(n_rows)
        for edge, extreme, outwards in ((left, left <= lu + margin, -1), (right, right >= ru - margin, 1)):
            sel = arms & extreme
            if armholes:  # down to where its curve meets the side, wherever the parse has the armpit
                sel &= rows <= _armpit_row(edge * outwards, arms, has_row)
            else:  # a sleeve's end: not the torso's side, where sleeves laid down lie in it
                sel &= ~_in_body(parse, rows, edge, r0, h, (c0 + c1) / 2)
            beyond = (jj - edge[:, None]) * outwards
            ext |= sel[:, None] & (beyond > 0) & (beyond <= length)
    return ext & ~cells


def _armpit_row(reach: np.ndarray, arms: np.ndarray, has_row: np.ndarray) -> int:
    """The row where a sleeveless bodice's armhole meets its side: where the run of the armhole's
    last rows (`arms`) whose outline (`reach`: how far out, per row) is as far out as the side
    just below them begins. A shallow armhole's parse can set its armpit a few rows low, and those
    rows, opened, were a slit down the side; a side that flares out below is never reached (the
    parse's rows stand)."""
    rows = np.flatnonzero(arms)
    if not len(rows) or rows[-1] + 1 >= len(reach) or not has_row[rows[-1] + 1]:
        return len(reach)
    short = np.flatnonzero(reach[rows] < reach[rows[-1] + 1])  # rows still curving in above the side
    if not len(short):  # the outline is the side's all along: too shallow to tell the parse from
        return len(reach)
    return int(rows[short[-1]] + 1) if short[-1] + 1 < len(rows) else len(reach)


def _in_body(parse: GarmentParse, rows: np.ndarray, cols: np.ndarray, r0: int, h: int, centre: float) -> np.ndarray:
    """Whether each cell (rows[i], cols[i]) lies in the parse's torso or skirt: cloth the fit wraps
    round the body, whose side must stay sewn (opened for a sleeve's end there, it was a slit down
    the body's side once wrapped); a sleeve's own cloth is rebuilt as a tube round the arm."""
    uv = np.column_stack([(cols + 0.5 - centre) / h, (rows + 0.5 - r0) / h])
    return np.isin(part_labels(parse, uv), [PARTS.index("torso"), PARTS.index("skirt")])


def _hem_columns(points: dict[str, np.ndarray], bottom: np.ndarray, r0: int, h: int, centre: float) -> np.ndarray:
    """The columns whose lowest cloth is the hem of the parse's bodice (its `points`): sleeves
    laid down past it are the lowest outline, and the body's hem is open all the same (none where
    the parse has no bodice hem)."""
    if "hem_centre" not in points or "armpit" not in points:
        return np.zeros(len(bottom), bool)
    cols = np.arange(len(bottom))
    low, high = sorted((float(points["hem"][1]), float(points["hem_centre"][1])))
    rows = (bottom >= r0 + low * h - HEM_ROOM * h - 1) & (bottom <= r0 + high * h + HEM_ROOM * h + 1)
    return rows & (np.abs(cols - centre) <= float(points["hem"][0]) * h)


def _arm_rows(points: dict[str, np.ndarray], kind: str, r0: int, h: int, n_rows: int) -> tuple[np.ndarray, bool]:
    """The rows (of `n_rows`; the garment's from r0, h high) where the arms leave the outline of a
    parse (its pattern's `points`, its sleeves' `kind`), and whether they are armholes (open all
    along, not only at their outermost): a sleeveless bodice's, from the shoulder to the armpit
    (below them its sides are sewn); else the upper half, whose outermost outline is the sleeves'
    ends (or the outer side of sleeves hanging down, which the fit rebuilds as tubes anyway)."""
    rows = np.arange(n_rows)
    if kind != "none" or "armpit" not in points:
        return rows <= r0 + 0.5 * h, False
    top, bottom = float(points["shoulder"][1]), float(points["armpit"][1])
    return (rows >= r0 + top * h - ARM_ROWS_ROOM) & (rows <= r0 + bottom * h + ARM_ROWS_ROOM), True


def _smooth_outline(xy: np.ndarray, front: np.ndarray, iterations: int = 4) -> np.ndarray:
    """Taubin smoothing (a shrinking and an inflating step, so the outline keeps its size) of the
    front sheet's border only, in the image plane: the grid's staircase becomes the garment's
    curve; inner vertices and depth are untouched."""
    edges = np.sort(np.concatenate([front[:, [0, 1]], front[:, [1, 2]], front[:, [2, 0]]]), axis=1)
    uniq, counts = np.unique(edges, axis=0, return_counts=True)
    border = uniq[counts == 1]  # edges of one front face only
    n = len(xy)
    adj = sparse.coo_matrix((np.ones(2 * len(border)), (np.r_[border[:, 0], border[:, 1]],
                                                        np.r_[border[:, 1], border[:, 0]])), shape=(n, n)).tocsr()
    degree = np.asarray(adj.sum(axis=1)).ravel()
    on = degree > 0
    out = xy.copy()
    for _ in range(iterations):
        for weight in (0.5, -0.53):
            mean = adj @ out
            out[on] += weight * (mean[on] / degree[on, None] - out[on])
    return out
