"""A small CPU renderer for thumbnails: rays cast through embree (via trimesh), textured Lambert shading.

Written here rather than taken from pyrender/Open3D: those need an OpenGL context (EGL/OSMesa) that
CPU-only containers often lack, while embree ray casting runs anywhere with a wheel from PyPI.
"""

from __future__ import annotations

import numpy as np
import trimesh
from PIL import Image

BACKGROUND = np.array([246, 246, 248], np.float64)
LIGHT = np.array([0.35, 0.55, 0.75])


def _face_colours(mesh: trimesh.Trimesh, faces: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """RGB (0..255) at the hit points, from the texture, vertex colours or the material colour."""
    visual = mesh.visual
    if isinstance(visual, trimesh.visual.TextureVisuals):
        mat = visual.material
        image = getattr(mat, "baseColorTexture", None) or getattr(mat, "image", None)
        if image is not None and visual.uv is not None:
            uv = np.einsum("ij,ijk->ik", bary, visual.uv[mesh.faces[faces]])
            tex = np.asarray(image.convert("RGB"), np.float64)
            h, w = tex.shape[:2]
            x = np.clip((uv[:, 0] % 1.0) * (w - 1), 0, w - 1).round().astype(int)
            y = np.clip((1 - uv[:, 1] % 1.0) * (h - 1), 0, h - 1).round().astype(int)
            return tex[y, x]
        factor = getattr(mat, "baseColorFactor", None)
        colour = np.asarray(factor if factor is not None else [200, 200, 200, 255], np.float64)
        colour = colour[:3] * (255.0 if colour.max() <= 1.0 else 1.0)
        return np.broadcast_to(colour, (len(faces), 3))
    vc = np.asarray(visual.vertex_colors, np.float64)[:, :3]
    return np.einsum("ij,ijk->ik", bary, vc[mesh.faces[faces]])


def render(meshes: list[trimesh.Trimesh], size: int = 256, yaw_deg: float = 25.0,
           pitch_deg: float = 8.0, supersample: float = 1.5) -> Image.Image:
    """Render meshes (glTF frame) from the front, turned by `yaw_deg`, fitted to the frame."""
    meshes = [m for m in meshes if len(m.faces)]
    if not meshes:
        return Image.new("RGB", (size, size), tuple(BACKGROUND.astype(int)))
    bounds = np.array([m.bounds for m in meshes])
    lo, hi = bounds[:, 0].min(axis=0), bounds[:, 1].max(axis=0)
    centre, radius = (lo + hi) / 2, np.linalg.norm(hi - lo) / 2
    yaw, pitch = np.radians(yaw_deg), np.radians(pitch_deg)
    forward = -np.array([np.sin(yaw) * np.cos(pitch), np.sin(pitch), np.cos(yaw) * np.cos(pitch)])
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    fov = np.radians(30.0)
    dist = radius / np.sin(fov / 2) * 1.02
    eye = centre - forward * dist
    n = round(size * supersample)
    t = np.tan(fov / 2) * (1 - (np.arange(n) + 0.5) / n * 2)
    gy, gx = np.meshgrid(t, -t, indexing="ij")
    dirs = forward + gx[..., None] * right + gy[..., None] * up
    dirs = (dirs / np.linalg.norm(dirs, axis=-1, keepdims=True)).reshape(-1, 3)
    origins = np.broadcast_to(eye, dirs.shape)

    combined = trimesh.util.concatenate([trimesh.Trimesh(m.vertices, m.faces, process=False)
                                         for m in meshes])
    offsets = np.cumsum([0] + [len(m.faces) for m in meshes])
    locs, ray_idx, tri_idx = combined.ray.intersects_location(origins, dirs, multiple_hits=False)
    image = np.tile(BACKGROUND, (n * n, 1))
    if len(tri_idx):
        normals = np.empty((len(tri_idx), 3))
        colours = np.empty((len(tri_idx), 3))
        owner = np.searchsorted(offsets, tri_idx, side="right") - 1
        for k, mesh in enumerate(meshes):
            sel = owner == k
            if sel.any():
                faces = tri_idx[sel] - offsets[k]
                bary = np.clip(trimesh.triangles.points_to_barycentric(mesh.triangles[faces], locs[sel]), 0, 1)
                colours[sel] = _face_colours(mesh, faces, bary)
                # smooth shading: vertex normals interpolated across the face
                normals[sel] = np.einsum("ij,ijk->ik", bary, mesh.vertex_normals[mesh.faces[faces]])
        normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
        shade = 0.35 + 0.65 * np.abs(normals @ LIGHT / np.linalg.norm(LIGHT))
        image[ray_idx] = colours * shade[:, None]
    img = Image.fromarray(image.reshape(n, n, 3).clip(0, 255).astype(np.uint8))
    return img.resize((size, size), Image.Resampling.LANCZOS) if n != size else img
