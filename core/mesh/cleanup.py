"""trimesh cleanup after reconstruction: drop floaters, degenerate faces, make normals consistent;
and the garment's surface welded by position (a mesh split along its UV seams is one cloth)."""

from __future__ import annotations

import numpy as np
import trimesh
from scipy.spatial import cKDTree

WELD_M = 1e-5  # vertices this close are one point of the cloth (UV seams split them exactly)
_AXIS_BITS = 21  # per axis in a weld key: 21 m at WELD_M, far beyond any garment
# Vertices at one point whose normals spread wider are a crease, shaded apart (a box's edge, 90°);
# a reconstruction's front and back meet along its outline at up to ~70°, a seam to shade smooth.
CREASE_DEG = 80.0
# A border loop shorter than this lets no part of the body through (a wrist is ~15 cm round): it is
# a flaw of the mesh (a pinhole, the edges round a non-manifold seam), not one of its openings.
OPENING_M = 0.15


def weld_groups(vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each vertex's point (vertices within WELD_M of each other are one) and the vertices per point.
    Integer keys and one np.unique: a few ms where trimesh's merge_vertices hashes rows."""
    v = np.asarray(vertices, np.float64)
    if not len(v):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    cells = np.round((v - v.min(axis=0)) / WELD_M).astype(np.int64)
    keys = (cells[:, 0] << (2 * _AXIS_BITS)) | (cells[:, 1] << _AXIS_BITS) | cells[:, 2]
    _, group, counts = np.unique(keys, return_inverse=True, return_counts=True)
    return group.ravel(), counts


def welded(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """The bare surface (no texture) with the vertices at one point joined: the cloth's own topology,
    whose border is the garment's openings, not the seams its texture is split along (front and
    back of a reconstruction, UV islands of an imported mesh)."""
    group, counts = weld_groups(mesh.vertices)
    first = np.full(len(counts), len(group))
    np.minimum.at(first, group, np.arange(len(group)))  # the first vertex of each point
    return trimesh.Trimesh(np.asarray(mesh.vertices)[first], group[np.asarray(mesh.faces)], process=False)


def opening_count(mesh: trimesh.Trimesh) -> int:
    """How many openings a garment has (border loops of the welded surface that a hand could pass
    through, OPENING_M round): 0 when it is closed, flaws in its surface or not."""
    surface = welded(mesh)
    if surface.is_watertight:
        return 0
    outline = surface.outline()
    return int(sum(entity.length(outline.vertices) >= OPENING_M for entity in outline.entities))


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
    mesh = welded(mesh)
    vertices, faces = [mesh.vertices], [mesh.faces]
    count = len(mesh.vertices)
    for entity in mesh.outline().entities:
        loop = np.asarray(entity.points)
        loop = loop[:-1] if loop[0] == loop[-1] else loop
        vertices.append(mesh.vertices[loop].mean(axis=0, keepdims=True))
        faces.append(np.column_stack([np.roll(loop, -1), loop, np.full(len(loop), count)]))
        count += 1
    return trimesh.Trimesh(np.concatenate(vertices), np.concatenate(faces), process=False)


def smooth_normals(mesh: trimesh.Trimesh) -> np.ndarray:
    """The mesh's vertex normals, every one of unit length (glTF requires it), smooth across its
    texture seams: the vertices at one point (split only for their texture coordinates, as along the
    outline where a reconstruction's front meets its back) share their mean normal, unless theirs
    spread wider than CREASE_DEG (a real crease, split on purpose, stays sharp). Where the faces
    round a vertex cancel out (cloth folded back on itself), the vertex takes one of its faces'."""
    normals = np.array(mesh.vertex_normals, dtype=np.float64)
    bad = np.linalg.norm(normals, axis=1) < 0.5
    if bad.any():
        face_of = np.full(len(mesh.vertices), -1)
        face_of[mesh.faces.ravel()] = np.repeat(np.arange(len(mesh.faces)), 3)
        fix = np.flatnonzero(bad)
        normals[fix] = np.where((face_of[fix] >= 0)[:, None], mesh.face_normals[np.maximum(face_of[fix], 0)],
                                [0.0, 0.0, 1.0])
        still = np.linalg.norm(normals, axis=1) < 0.5  # a degenerate face's own normal is zero too
        normals[still] = [0.0, 0.0, 1.0]
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    group, counts = weld_groups(mesh.vertices)
    if len(counts) == len(normals):
        return normals
    used = np.zeros(len(normals), bool)
    used[np.asarray(mesh.faces).ravel()] = True  # a vertex no face uses has no say in its point's normal
    mean = np.zeros((len(counts), 3))
    np.add.at(mean, group[used], normals[used])
    length = np.linalg.norm(mean, axis=1)
    mean /= np.maximum(length, 1e-12)[:, None]
    closest = np.ones(len(counts))  # how far the point's farthest vertex turns from the mean (a cosine)
    np.minimum.at(closest, group[used], np.einsum("ij,ij->i", normals[used], mean[group[used]]))
    smooth = ((counts > 1) & (length > 1e-6) & (closest > np.cos(np.radians(CREASE_DEG / 2))))[group] & used
    normals[smooth] = mean[group[smooth]]
    return normals
