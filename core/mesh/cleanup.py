"""trimesh cleanup after reconstruction: drop floaters, degenerate faces, make normals consistent."""

from __future__ import annotations

import numpy as np
import trimesh


def drop_small_pieces(mesh: trimesh.Trimesh, min_share: float = 0.02) -> trimesh.Trimesh:
    """Keep connected pieces holding at least `min_share` of the largest piece's faces."""
    labels = trimesh.graph.connected_component_labels(mesh.face_adjacency, node_count=len(mesh.faces))
    counts = np.bincount(labels)
    if len(counts) <= 1:
        return mesh
    keep = np.isin(labels, np.flatnonzero(counts >= min_share * counts.max()))
    if keep.all():
        return mesh
    out = mesh.copy()
    out.update_faces(keep)
    out.remove_unreferenced_vertices()
    return out


def clean(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    mesh = drop_small_pieces(mesh)
    mesh.update_faces(mesh.nondegenerate_faces())
    mesh.update_faces(mesh.unique_faces())
    mesh.remove_unreferenced_vertices()
    trimesh.repair.fix_normals(mesh)
    return mesh
