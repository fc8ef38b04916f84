"""Fast nearest-surface queries on dense samples of a mesh: a KD-tree lookup and the face plane
of the nearest sample give a signed distance, without exact triangle searches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh
from scipy.spatial import cKDTree

SAMPLE_SPACING = 0.004  # metres between surface samples (the distance is to the face plane, not the sample)


@dataclass
class SurfaceSamples:
    tree: cKDTree
    points: np.ndarray
    normals: np.ndarray

    @classmethod
    def of(cls, mesh: trimesh.Trimesh, spacing: float = SAMPLE_SPACING) -> SurfaceSamples:
        count = max(20_000, int(mesh.area / spacing**2))
        points, faces = trimesh.sample.sample_surface(mesh, count, seed=0)
        return cls(cKDTree(points, leafsize=32), points, mesh.face_normals[faces])

    def query(self, points: np.ndarray, near: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Signed distance along the nearest face's normal, closest point and normal; +inf (and
        the point itself, a zero normal) for points farther than `near` from every sample."""
        n_points = len(points)
        signed, closest, normals = np.full(n_points, np.inf), points.copy(), np.zeros((n_points, 3))
        dist, idx = self.tree.query(points, distance_upper_bound=near, workers=-1)
        hit = np.flatnonzero(np.isfinite(dist))
        n = self.normals[idx[hit]]
        signed[hit] = np.einsum("ij,ij->i", points[hit] - self.points[idx[hit]], n)
        closest[hit] = points[hit] - signed[hit, None] * n
        normals[hit] = n
        return signed, closest, normals
