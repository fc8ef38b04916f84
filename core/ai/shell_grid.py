"""The silhouette's cell grid made into a shell: the cells trimmed until front and back can meet only
along the outline, each corner's depth and seam, and two triangles per cell on each side."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def corner_depth(cells: np.ndarray, ext: np.ndarray, pad: int, metres_per_cell: float,
                  half_depth: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per corner of the grid, (R+1)×(C+1): whether the shell uses it, whether it is on the seam
    where front and back join, and its depth (metres)."""
    # Around each corner, four cells: inside, opening, or outside.
    def around(a: np.ndarray) -> np.ndarray:
        p = np.pad(a, 1)
        return np.stack([p[:-1, :-1], p[:-1, 1:], p[1:, :-1], p[1:, 1:]])

    inside4, open4 = around(cells), around(ext)
    used = inside4.any(axis=0)
    seam = used & (~inside4 & ~open4).any(axis=0)  # front and back are joined here (depth 0)
    # Depth: distance to the outline, measured as if the garment went on through its openings.
    dist = ndimage.distance_transform_edt((inside4 | open4).all(axis=0)) * metres_per_cell
    radius = np.maximum(ndimage.grey_dilation(dist, size=(2 * pad + 1, 2 * pad + 1)), 1e-9)  # local half-width
    # An elliptical section: round (radius = half-width) where narrow, flattened to the
    # category's depth across the torso.
    depth = np.minimum(half_depth, radius) * np.sqrt(np.clip(dist * (2 * radius - dist), 0, None)) / radius
    depth[seam] = 0.0
    return used, seam, depth


def shell_faces(cells: np.ndarray, seam: np.ndarray, front_id: np.ndarray,
                 back_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two triangles a cell on the front and two on the back: the front's faces, and all of them
    (front counter-clockwise from +Z, back from -Z)."""
    ci, cj = np.nonzero(cells)
    corners = [(ci, cj), (ci, cj + 1), (ci + 1, cj + 1), (ci + 1, cj)]  # a, b, c, d clockwise
    a, b, c, d = (front_id[i, j] for i, j in corners)
    ab, bb, cb, db = (back_id[i, j] for i, j in corners)
    # Split each cell along a diagonal through a corner off the seam, so that no triangle has all
    # three corners on the seam (its front and back copies would coincide).
    ac = ~seam[ci, cj] | ~seam[ci + 1, cj + 1]
    front = np.where(ac[:, None, None],
                     np.stack([np.stack([a, d, c], 1), np.stack([a, c, b], 1)], 1),
                     np.stack([np.stack([a, d, b], 1), np.stack([b, d, c], 1)], 1)).reshape(-1, 3)
    back_faces = np.where(ac[:, None, None],
                          np.stack([np.stack([ab, cb, db], 1), np.stack([ab, bb, cb], 1)], 1),
                          np.stack([np.stack([ab, bb, db], 1), np.stack([bb, cb, db], 1)], 1)).reshape(-1, 3)
    return front, np.concatenate([front, back_faces])


def manifold_cells(cells: np.ndarray) -> np.ndarray:
    """Trim the cells until front and back can meet only along the outline.

    An edge between two inside cells whose both ends lie on the outline (a one-cell neck, or a
    cell with no inside corner) would be shared by four faces once front and back are joined
    there; diagonal-only contacts would pinch. Removing one cell of each such place and keeping
    the largest piece converges in a few rounds; a long thin shape takes more, as each round can
    open new such places along it. Every round removes a cell, so it always ends.
    """
    cells = _largest_piece(cells)
    for _ in range(int(cells.sum()) + 1):
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


def _rim_corners(cells: np.ndarray) -> np.ndarray:
    """Corners touching both an inside and an outside cell (shape (rows+1, cols+1))."""
    pad = np.pad(cells, 1)
    around = np.stack([pad[:-1, :-1], pad[:-1, 1:], pad[1:, :-1], pad[1:, 1:]])
    return around.any(axis=0) & ~around.all(axis=0)



def _largest_piece(cells: np.ndarray) -> np.ndarray:
    """The largest 4-connected piece of the cells: one shell, not scattered islands."""
    labels, n = ndimage.label(cells)
    if n <= 1:
        return cells
    sizes = ndimage.sum_labels(cells, labels, index=np.arange(1, n + 1))
    return labels == (np.argmax(sizes) + 1)
