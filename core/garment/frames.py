"""Where a parse's frame lies on a garment mesh: the parse reads the mesh's front silhouette, turned
upright by the parse's tilt, whose top is 0, bottom 1 and centre line x = 0, in units of its
height; the mesh is in metres."""

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
    turn: np.ndarray  # (2, 2): the silhouette's tilt undone, about `pivot`
    pivot: np.ndarray  # (2,)

    @classmethod
    def of(cls, mesh: trimesh.Trimesh, mask: np.ndarray | None = None, tilt: float = 0.0) -> MeshFrame:
        """From the mesh's silhouette (`mask`: its front_mask, when already drawn), turned upright
        by `tilt` degrees (counter-clockwise as seen from the front), as the parse turned it."""
        v = np.asarray(mesh.vertices)
        a = np.radians(tilt)
        turn = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        pivot = (v[:, :2].min(axis=0) + v[:, :2].max(axis=0)) / 2
        if tilt:
            turned = mesh.copy()
            turned.vertices[:, :2] = (v[:, :2] - pivot) @ turn.T + pivot
            mask, v = front_mask(turned), np.asarray(turned.vertices)
        elif mask is None:
            mask = front_mask(mesh)
        frame = Frame.of(mask)
        x0, x1 = float(v[:, 0].min()), float(v[:, 0].max())
        return cls(x0 + frame.centre_share * (x1 - x0), float(v[:, 1].max()), float(np.ptp(v[:, 1])) or 1e-9,
                   turn, pivot)

    def to_parse(self, vertices: np.ndarray) -> np.ndarray:
        """Points (metres, y up) to the parse frame (heights, y down)."""
        xy = (vertices[:, :2] - self.pivot) @ self.turn.T + self.pivot
        return np.column_stack([(xy[:, 0] - self.centre_x) / self.height, (self.top_y - xy[:, 1]) / self.height])
