"""Clearance: no garment vertex inside the body or nearer than the offset; smoothing that keeps it so."""

from __future__ import annotations

import numpy as np
import trimesh

from core.fitting.body import BodyModel


def push_out(vertices: np.ndarray, body: BodyModel, offset: float, rounds: int = 4) -> np.ndarray:
    """Move every vertex inside the body, or nearer than `offset`, to `offset` outside along the
    nearest surface normal. Repeated because a moved vertex can land near another body part."""
    v = vertices.copy()
    for _ in range(rounds):
        signed, closest, normals = body.surface_query(v, near=offset)
        bad = signed < offset - 1e-6
        if not bad.any():
            break
        v[bad] = closest[bad] + normals[bad] * offset
    return v


def smooth_outside(mesh: trimesh.Trimesh, body: BodyModel, offset: float,
                   iterations: int = 3) -> trimesh.Trimesh:
    """Taubin smoothing (no shrinking) of the pushed garment, then push out again what re-entered."""
    out = mesh.copy()
    trimesh.smoothing.filter_taubin(out, iterations=iterations)
    out.vertices = push_out(out.vertices, body, offset)
    return out
