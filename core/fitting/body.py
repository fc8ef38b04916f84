"""The avatar as the fitting sees it: its mesh, landmarks and fast surface queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import trimesh
from scipy import ndimage

from core.avatars.measure import torso_loop
from core.fitting.surface import SAMPLE_SPACING, SurfaceSamples

CELL = 0.015  # metres: grid cell edge
REACH = 0.06  # metres: the grid resolves distances up to this far from the skin
COARSE_SPACING = 0.01  # metres between the samples of long-range queries


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


@dataclass
class BodyModel:
    mesh: trimesh.Trimesh  # watertight, glTF frame, feet on y=0, facing +Z
    landmarks: dict[str, list[float]]
    measurements: dict[str, float] = field(default_factory=dict)
    _extents: dict[float, tuple[float, float, float, float]] = field(default_factory=dict, init=False, repr=False)

    def point(self, name: str) -> np.ndarray:
        return np.asarray(self.landmarks[name], float)

    @cached_property
    def surface(self) -> SurfaceSamples:
        """Built once per avatar (~0.2 s) and kept with it."""
        return SurfaceSamples.of(self.mesh)

    @cached_property
    def coarse(self) -> SurfaceSamples:
        """Sparser samples for long-range queries (the hug pulls cloth in from up to 25 cm), where
        the dense samples' search would visit thousands of points and a centimetre is nothing."""
        return SurfaceSamples.of(self.mesh, spacing=COARSE_SPACING)

    @cached_property
    def grid(self) -> BodyGrid:
        """Built once per avatar, like the samples."""
        return BodyGrid.of(self.mesh, self.surface)

    def prepared(self) -> BodyModel:
        """Build what every fit on this avatar uses (samples, grid, the exact search's tree, the
        torso sections placement reads) now, once per process, so that no user's fit pays for it
        (about 1 s in all)."""
        _ = self.surface, self.coarse, self.grid, self.mesh.triangles_tree, self.neck_base_y, self.arm_radius
        for name in ("chest", "waist"):  # the sections placement reads
            self.torso_extent(float(self.point(name)[1]))
        self.mesh.mutable = False  # read-only from now on, so trimesh need not re-check its caches
        return self

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Exact inside test (ray parity where it matters, the grid elsewhere)."""
        return self.grid.contains(np.asarray(points, float), self.mesh)

    def surface_query(self, points: np.ndarray, near: float = 0.03) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Signed distance (negative inside), closest surface point and outward normal per point.

        Points farther than `near` outside get +inf and are left alone; points deep inside (a few,
        after placement) take their nearest sample at any range: they only need a way out, and
        whoever moves them queries again from where they land. Queries reaching beyond the grid
        use the coarse samples.
        """
        points = np.asarray(points, float)
        samples = self.surface if near <= REACH else self.coarse
        signed, closest, normals = np.full(len(points), np.inf), points.copy(), np.zeros((len(points), 3))
        near_idx = np.flatnonzero(self.grid.clearance(points) < near)
        signed[near_idx], closest[near_idx], normals[near_idx] = samples.query(points[near_idx], near)
        far = np.flatnonzero(~np.isfinite(signed))
        deep = far[self.contains(points[far])] if len(far) else far
        if len(deep):
            signed[deep], closest[deep], normals[deep] = samples.query(points[deep], np.inf)
        return signed, closest, normals

    @cached_property
    def neck_base_y(self) -> float:
        """Height where the neck meets the shoulders, which a top's neckline rests on: the
        skeleton's neck joint lies above it, in the neck. Found from the body's
        sections: going down from the neck's narrowest section, where it grows half as wide again."""
        pelvis, chest, neck = self.point("pelvis"), self.point("chest")[1], self.point("neck")[1]
        ys = np.arange(chest, neck + 0.05, 0.005)
        widths = np.full(len(ys), np.nan)
        for i, y in enumerate(ys):  # ~60 sections, once per avatar
            loop = torso_loop(self.mesh, float(y), (float(pelvis[0]), float(pelvis[2])))
            if loop is not None:
                widths[i] = loop.bounds[2] - loop.bounds[0]
        upper = ys > (chest + neck) / 2
        if not np.isfinite(widths[upper]).any():
            return neck
        narrowest = int(np.nanargmin(np.where(upper, widths, np.nan)))
        below = np.flatnonzero((np.arange(len(ys)) < narrowest) & (widths >= 1.5 * widths[narrowest]))
        return float(ys[below[-1]]) if len(below) else neck

    @cached_property
    def arm_radius(self) -> float:
        """The arms' radius: from the elbows and the middle of the upper arms' bones to the
        nearest skin sample (the largest of the four), the least a sleeve must leave an arm."""
        bones = [self.point(f"elbow_{side}") for side in "lr"]
        bones += [(self.point(f"shoulder_{side}") + self.point(f"elbow_{side}")) / 2 for side in "lr"]
        distance, _ = self.surface.tree.query(np.array(bones))
        return float(distance.max())

    def torso_extent(self, y: float) -> tuple[float, float, float, float]:
        """(x_min, x_max, z_min, z_max) of the torso's section at height y; kept, as placement
        asks for the same few heights on every fit."""
        if y not in self._extents:
            pelvis = self.point("pelvis")
            loop = torso_loop(self.mesh, y, (float(pelvis[0]), float(pelvis[2])))
            half = 0.15
            x0, z0, x1, z1 = loop.bounds if loop is not None else (-half, -half, half, half)
            self._extents[y] = (x0, x1, z0, z1)
        return self._extents[y]
