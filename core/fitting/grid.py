"""What a fit asks of the body most, on a coarse voxel grid built once per avatar: a lower bound
of each cell's distance to the skin, and whether it is inside."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh
from scipy import ndimage

from core.fitting.surface import SAMPLE_SPACING, SurfaceSamples

CELL = 0.015  # metres: grid cell edge
REACH = 0.06  # metres: the grid resolves distances up to this far from the skin


@dataclass
class BodyGrid:
    """What a fit asks of the body most, precomputed once per avatar on a coarse voxel grid:
    for each cell, a lower bound of the distance from any point in it to the skin (capped at
    REACH; 0 in cells the skin may cross) and whether it is inside. Queries then skip the
    KD-tree for vertices that are surely far, and the exact ray-parity test for vertices in
    cells the skin does not cross: most vertices of a loose garment. Exact by construction."""

    origin: np.ndarray
    shape: tuple[int, int, int]
    clear: np.ndarray  # float32 per cell: lower bound of the distance to the skin
    inside: np.ndarray  # bool per cell, meaningful where clear > 0

    @classmethod
    def of(cls, mesh: trimesh.Trimesh, samples: SurfaceSamples, cell: float = CELL) -> BodyGrid:
        lo = mesh.bounds[0] - REACH
        shape = tuple(int(n) for n in np.ceil((mesh.bounds[1] + REACH - lo) / cell))
        centres = lo + (np.indices(shape).reshape(3, -1).T + 0.5) * cell
        # Every skin point lies in a cell whose centre is within a half-diagonal of it, and the
        # nearest sample is within about the sample spacing: those cells are the skin cells.
        half = cell * np.sqrt(3) / 2
        dist, _ = samples.tree.query(centres, distance_upper_bound=half + SAMPLE_SPACING, workers=-1)
        skin = np.isfinite(dist).reshape(shape)
        # From any point of a cell to any point of a skin cell: at least the centres' distance
        # less two half-diagonals.
        between = ndimage.distance_transform_edt(~skin).ravel() * cell
        clear = np.clip(between - 2 * half, 0.0, REACH).astype(np.float32)
        clear[skin.ravel()] = 0.0
        # Face-adjacent cells the skin does not cross share a face it does not cross either, so
        # a connected region of them is all inside or all outside: one exact test per region.
        labels, _ = ndimage.label((clear > 0).reshape(shape))
        labels = labels.ravel()
        first = np.unique(labels, return_index=True)[1][1:]  # one cell per region (0: skin cells)
        region_inside = np.concatenate([[False], mesh.contains(centres[first])])
        return cls(lo, shape, clear, region_inside[labels])

    def _cells(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat cell index of each point (0 where outside the grid) and whether it is inside the grid."""
        ijk = np.floor((points - self.origin) / CELL).astype(np.int64)
        _, ny, nz = self.shape
        # One unsigned comparison per axis: a negative index wraps to a huge number.
        within = (ijk.view(np.uint64) < np.array(self.shape, np.uint64)).all(axis=1)
        flat = (ijk[:, 0] * ny + ijk[:, 1]) * nz + ijk[:, 2]
        return np.where(within, flat, 0), within

    def clearance(self, points: np.ndarray) -> np.ndarray:
        """A lower bound of each point's distance to the skin (REACH beyond the grid's padding)."""
        flat, within = self._cells(points)
        return np.where(within, self.clear[flat], REACH)

    def contains(self, points: np.ndarray, mesh: trimesh.Trimesh) -> np.ndarray:
        flat, within = self._cells(points)
        result = within & self.inside[flat]
        check = np.flatnonzero(within & (self.clear[flat] == 0))
        if len(check):
            result[check] = mesh.contains(points[check])
        return result
