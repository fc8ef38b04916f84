"""The avatar as the fitting sees it: its mesh, landmarks and fast surface queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import trimesh
from scipy.spatial import cKDTree


@dataclass
class BodyModel:
    mesh: trimesh.Trimesh  # watertight, glTF frame, feet on y=0, facing +Z
    landmarks: dict[str, list[float]]
    measurements: dict[str, float] = field(default_factory=dict)

    def point(self, name: str) -> np.ndarray:
        return np.asarray(self.landmarks[name], float)

    @cached_property
    def _tree(self) -> cKDTree:
        return cKDTree(self.mesh.vertices)

    @cached_property
    def _max_edge(self) -> float:
        return float(self.mesh.edges_unique_length.max())

    def surface_query(self, points: np.ndarray, near: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Signed distance (negative inside), closest surface point and outward normal.

        Exact only for points inside the body or within `near` of it (the ones the fitting moves);
        others get +inf, which keeps the exact triangle search off the far points.
        """
        n = len(points)
        signed = np.full(n, np.inf)
        closest = points.copy()
        normals = np.zeros((n, 3))
        inside = self.mesh.contains(points)
        kd_dist, _ = self._tree.query(points, distance_upper_bound=near + self._max_edge)
        cand = np.flatnonzero(inside | np.isfinite(kd_dist))
        if len(cand):
            cp, dist, tri = trimesh.proximity.closest_point(self.mesh, points[cand])
            signed[cand] = np.where(inside[cand], -dist, dist)
            closest[cand] = cp
            normals[cand] = self.mesh.face_normals[tri]
        return signed, closest, normals

    def torso_extent(self, y: float) -> tuple[float, float, float, float]:
        """(x_min, x_max, z_min, z_max) of the torso's section at height y."""
        from core.avatars.measure import torso_loop

        pelvis = self.point("pelvis")
        loop = torso_loop(self.mesh, y, (float(pelvis[0]), float(pelvis[2])))
        if loop is None:
            half = 0.15
            return -half, half, -half, half
        x0, z0, x1, z1 = loop.bounds
        return x0, x1, z0, z1
