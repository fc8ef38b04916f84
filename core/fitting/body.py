"""The avatar as the fitting sees it: its mesh, landmarks and fast surface queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import trimesh

from core.avatars.measure import torso_loop
from core.fitting.surface import SurfaceSamples


@dataclass
class BodyModel:
    mesh: trimesh.Trimesh  # watertight, glTF frame, feet on y=0, facing +Z
    landmarks: dict[str, list[float]]
    measurements: dict[str, float] = field(default_factory=dict)

    def point(self, name: str) -> np.ndarray:
        return np.asarray(self.landmarks[name], float)

    @cached_property
    def surface(self) -> SurfaceSamples:
        """Built once per avatar (~0.2 s) and kept with it."""
        return SurfaceSamples.of(self.mesh)

    def surface_query(self, points: np.ndarray, near: float = 0.03) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Signed distance (negative inside), closest surface point and outward normal per point.

        Points farther than `near` outside get +inf and are left alone; points deep inside (rare
        after placement) get an exact closest-point search.
        """
        signed, closest, normals = self.surface.query(points, near)
        far = np.flatnonzero(~np.isfinite(signed))
        deep = far[self.mesh.contains(points[far])] if len(far) else far
        if len(deep):
            cp, d, tri = trimesh.proximity.closest_point(self.mesh, points[deep])
            signed[deep], closest[deep], normals[deep] = -d, cp, self.mesh.face_normals[tri]
        return signed, closest, normals

    def torso_extent(self, y: float) -> tuple[float, float, float, float]:
        """(x_min, x_max, z_min, z_max) of the torso's section at height y."""
        pelvis = self.point("pelvis")
        loop = torso_loop(self.mesh, y, (float(pelvis[0]), float(pelvis[2])))
        if loop is None:
            half = 0.15
            return -half, half, -half, half
        x0, z0, x1, z1 = loop.bounds
        return x0, x1, z0, z1
