"""Where a parse's frame lies on a garment mesh: the parse reads the mesh's front silhouette, whose
top is 0, bottom 1 and centre line x = 0, in units of its height; the mesh is in metres."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

from core.garment.fitting import Frame
from core.mesh.importer import front_mask


@dataclass(frozen=True)
class MeshFrame:
    centre_x: float
    top_y: float
    height: float

    @classmethod
    def of(cls, mesh: trimesh.Trimesh, mask: np.ndarray | None = None) -> MeshFrame:
        """From the mesh's silhouette (`mask`: its front_mask, when already drawn)."""
        v = np.asarray(mesh.vertices)
        mask = front_mask(mesh) if mask is None else mask
        frame = Frame.of(mask)
        x0, x1 = float(v[:, 0].min()), float(v[:, 0].max())
        return cls(x0 + frame.centre_share * (x1 - x0), float(v[:, 1].max()), float(np.ptp(v[:, 1])) or 1e-9)

    def to_parse(self, vertices: np.ndarray) -> np.ndarray:
        """Points (metres, y up) to the parse frame (heights, y down)."""
        return np.column_stack([(vertices[:, 0] - self.centre_x) / self.height,
                                (self.top_y - vertices[:, 1]) / self.height])
