"""The one orientation function: any source convention to the glTF frame (+Y up, facing +Z, metres)."""

from __future__ import annotations

import numpy as np
import trimesh

_AXES = {"+x": (1, 0, 0), "-x": (-1, 0, 0), "+y": (0, 1, 0), "-y": (0, -1, 0),
         "+z": (0, 0, 1), "-z": (0, 0, -1)}


def frame_rotation(up: str, forward: str) -> np.ndarray:
    """3×3 rotation taking a frame whose up/forward axes are named (e.g. "+z", "-y") to glTF's."""
    u, f = np.array(_AXES[up], float), np.array(_AXES[forward], float)
    if abs(u @ f) > 0:
        raise ValueError(f"up {up} and forward {forward} must be perpendicular")
    src = np.stack([np.cross(u, f), u, f])  # source x', y', z' expressed in source coordinates
    return src  # rows map source vectors onto glTF x, y, z


def to_gltf_frame(mesh: trimesh.Trimesh, up: str, forward: str, scale: float = 1.0) -> trimesh.Trimesh:
    """Rotate (and scale to metres) a mesh in place; normals and winding follow the proper rotation."""
    transform = np.eye(4)
    transform[:3, :3] = frame_rotation(up, forward) * scale
    mesh.apply_transform(transform)
    return mesh
