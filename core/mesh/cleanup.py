"""trimesh cleanup after reconstruction: drop floaters, degenerate faces, make normals consistent."""

from __future__ import annotations

import numpy as np
import trimesh
from scipy.spatial import cKDTree


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


def decimate(mesh: trimesh.Trimesh, max_faces: int) -> trimesh.Trimesh:
    """Quadric decimation (fast-simplification through trimesh) down to `max_faces`. The texture
    survives: each new vertex takes the UV of the nearest original vertex."""
    if len(mesh.faces) <= max_faces:
        return mesh
    out = mesh.simplify_quadric_decimation(face_count=max_faces)
    visual = mesh.visual
    if isinstance(visual, trimesh.visual.TextureVisuals) and visual.uv is not None:
        _, nearest = cKDTree(mesh.vertices).query(out.vertices)
        out.visual = trimesh.visual.TextureVisuals(uv=visual.uv[nearest], material=visual.material)
    return out


def clean(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    mesh = drop_small_pieces(mesh)
    mesh.update_faces(mesh.nondegenerate_faces())
    mesh.update_faces(mesh.unique_faces())
    mesh.remove_unreferenced_vertices()
    trimesh.repair.fix_normals(mesh)
    return mesh


def closed(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """The mesh with every opening filled (a fan from each boundary loop's centroid): a garment as
    InstantMesh makes them, watertight, to test and measure the fitting's openings on."""
    mesh = mesh.copy()
    mesh.merge_vertices()
    vertices, faces = [mesh.vertices], [mesh.faces]
    count = len(mesh.vertices)
    for entity in mesh.outline().entities:
        loop = np.asarray(entity.points)
        loop = loop[:-1] if loop[0] == loop[-1] else loop
        vertices.append(mesh.vertices[loop].mean(axis=0, keepdims=True))
        faces.append(np.column_stack([np.roll(loop, -1), loop, np.full(len(loop), count)]))
        count += 1
    return trimesh.Trimesh(np.concatenate(vertices), np.concatenate(faces), process=False)
