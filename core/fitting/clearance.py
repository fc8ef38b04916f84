"""Clearance: no garment vertex inside the body or nearer than the offset; smoothing that keeps it so."""

from __future__ import annotations

import numpy as np
import trimesh

from core.fitting.body import BodyModel


def push_out(vertices: np.ndarray, body: BodyModel, offset: float, rounds: int = 8) -> np.ndarray:
    """Move every vertex inside the body, or nearer than `offset`, to `offset` outside along the
    nearest surface normal.

    Repeated, because a moved vertex can land near another body part. In a crease (between the
    buttocks, under an arm) the nearest surface alternates between the two sides; there the
    vertex moves along the sum of the last two normals, which leaves the crease instead of
    zig-zagging across it.
    """
    v = vertices.copy()
    previous = np.zeros_like(v)
    for _ in range(rounds):
        signed, closest, normals = body.surface_query(v, near=offset)
        bad = np.flatnonzero(signed < offset - 1e-6)
        if len(bad) == 0:
            break
        inside = signed[bad] < 0
        direction = normals[bad] + previous[bad]
        direction /= np.maximum(np.linalg.norm(direction, axis=1, keepdims=True), 1e-12)
        along = np.maximum((direction * normals[bad]).sum(axis=1), 0.3)
        step = (offset - signed[bad]) / along
        # Inside points go to the surface first (the nearest surface point plus the offset).
        v[bad] = np.where(inside[:, None], closest[bad] + normals[bad] * offset,
                          v[bad] + direction * step[:, None])
        previous[:] = 0.0
        previous[bad] = normals[bad]
    return v


def smooth_outside(mesh: trimesh.Trimesh, body: BodyModel, offset: float,
                   iterations: int = 3) -> trimesh.Trimesh:
    """Taubin smoothing (no shrinking) of the pushed garment, then push out again what re-entered."""
    out = mesh.copy()
    trimesh.smoothing.filter_taubin(out, iterations=iterations)
    out.vertices = push_out(out.vertices, body, offset)
    return out
