"""A small CPU renderer for thumbnails and turntables: rays cast through embree (via trimesh),
textured, smooth-shaded Lambert.

Written here rather than taken from pyrender/Open3D: those need an OpenGL context (EGL/OSMesa) that
CPU-only containers often lack, while embree ray casting runs anywhere with a wheel from PyPI.
"""

from __future__ import annotations

import io

import numpy as np
import trimesh
from PIL import Image

from core.mesh.cleanup import smooth_normals

BACKGROUND = np.array([246, 246, 248], np.float64)
LIGHT = np.array([0.35, 0.55, 0.75]) / np.linalg.norm([0.35, 0.55, 0.75])
FOV_DEG = 30.0


class _Shader:
    """Per-mesh colour lookup, prepared once: texture array, or vertex / material colours."""

    def __init__(self, mesh: trimesh.Trimesh) -> None:
        self.mesh = mesh
        self.texture = self.uv = self.colour = self.vertex_colours = None
        visual = mesh.visual
        if isinstance(visual, trimesh.visual.TextureVisuals):
            mat = visual.material
            image = getattr(mat, "baseColorTexture", None) or getattr(mat, "image", None)
            if image is not None and visual.uv is not None:
                self.texture = np.asarray(image.convert("RGB"), np.float64)
                self.uv = visual.uv
            else:
                factor = getattr(mat, "baseColorFactor", None)
                colour = np.asarray(factor if factor is not None else [200, 200, 200, 255], np.float64)
                self.colour = colour[:3] * (255.0 if colour.max() <= 1.0 else 1.0)
        else:
            self.vertex_colours = np.asarray(visual.vertex_colors, np.float64)[:, :3]

    def colours(self, faces: np.ndarray, bary: np.ndarray) -> np.ndarray:
        corners = self.mesh.faces[faces]
        if self.texture is not None:
            uv = np.einsum("ij,ijk->ik", bary, self.uv[corners])
            h, w = self.texture.shape[:2]
            x = np.clip((uv[:, 0] % 1.0) * (w - 1), 0, w - 1).round().astype(int)
            y = np.clip((1 - uv[:, 1] % 1.0) * (h - 1), 0, h - 1).round().astype(int)
            return self.texture[y, x]
        if self.colour is not None:
            return np.broadcast_to(self.colour, (len(faces), 3))
        return np.einsum("ij,ijk->ik", bary, self.vertex_colours[corners])


class RayScene:
    """Meshes (glTF frame) ready to be rendered from any angle: one BVH for all views."""

    def __init__(self, meshes: list[trimesh.Trimesh]) -> None:
        self.meshes = [m for m in meshes if len(m.faces)]
        self.shaders = [_Shader(m) for m in self.meshes]
        self.normals = [smooth_normals(m) for m in self.meshes]  # as the exported GLB has them
        if self.meshes:
            self.combined = trimesh.util.concatenate(
                [trimesh.Trimesh(m.vertices, m.faces, process=False) for m in self.meshes])
            self.offsets = np.cumsum([0] + [len(m.faces) for m in self.meshes])
            lo, hi = self.combined.bounds
            self.centre, self.radius = (lo + hi) / 2, np.linalg.norm(hi - lo) / 2

    def image(self, size: int = 256, yaw_deg: float = 25.0, pitch_deg: float = 8.0,
              supersample: float = 1.5, fov_deg: float = FOV_DEG) -> Image.Image:
        """The view from the front turned by `yaw_deg` about +Y, the scene fitted to the frame
        (a small `fov_deg` is a long lens: nearly orthographic, like product photography)."""
        n = round(size * supersample)
        image = np.tile(BACKGROUND, (n * n, 1))
        if self.meshes:
            self._shade(image, n, np.radians(yaw_deg), np.radians(pitch_deg), np.radians(fov_deg))
        img = Image.fromarray(image.reshape(n, n, 3).clip(0, 255).astype(np.uint8))
        return img.resize((size, size), Image.Resampling.LANCZOS) if n != size else img

    def _shade(self, image: np.ndarray, n: int, yaw: float, pitch: float, fov: float) -> None:
        forward = -np.array([np.sin(yaw) * np.cos(pitch), np.sin(pitch), np.cos(yaw) * np.cos(pitch)])
        right = np.cross(forward, [0.0, 1.0, 0.0])
        right /= np.linalg.norm(right)
        up = np.cross(right, forward)
        eye = self.centre - forward * self.radius / np.sin(fov / 2) * 1.02
        t = np.tan(fov / 2) * (1 - (np.arange(n) + 0.5) / n * 2)
        gy, gx = np.meshgrid(t, -t, indexing="ij")
        dirs = forward + gx[..., None] * right + gy[..., None] * up
        dirs = (dirs / np.linalg.norm(dirs, axis=-1, keepdims=True)).reshape(-1, 3)
        locs, ray_idx, tri_idx = self.combined.ray.intersects_location(
            np.broadcast_to(eye, dirs.shape), dirs, multiple_hits=False)
        if not len(tri_idx):
            return
        normals = np.empty((len(tri_idx), 3))
        colours = np.empty((len(tri_idx), 3))
        owner = np.searchsorted(self.offsets, tri_idx, side="right") - 1
        for k, (mesh, shader) in enumerate(zip(self.meshes, self.shaders, strict=True)):
            sel = owner == k
            if sel.any():
                faces = tri_idx[sel] - self.offsets[k]
                bary = np.clip(trimesh.triangles.points_to_barycentric(mesh.triangles[faces], locs[sel]), 0, 1)
                colours[sel] = shader.colours(faces, bary)
                # smooth shading: vertex normals interpolated across the face
                normals[sel] = np.einsum("ij,ijk->ik", bary, self.normals[k][mesh.faces[faces]])
        normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
        shade = 0.35 + 0.65 * np.abs(normals @ LIGHT)
        image[ray_idx] = colours * shade[:, None]


def render(meshes: list[trimesh.Trimesh], size: int = 256, yaw_deg: float = 25.0,
           pitch_deg: float = 8.0, supersample: float = 1.5) -> Image.Image:
    return RayScene(meshes).image(size, yaw_deg, pitch_deg, supersample)


def turntable(meshes: list[trimesh.Trimesh], frames: int = 24, size: int = 192, fps: int = 12) -> bytes:
    """A looping GIF of the meshes turning once around +Y: a quick look without a 3D viewer."""
    scene = RayScene(meshes)
    images = [scene.image(size, yaw_deg=360.0 * k / frames, supersample=1.0).convert(
        "P", palette=Image.Palette.ADAPTIVE, colors=192) for k in range(frames)]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=1000 // fps, loop=0)
    return buf.getvalue()
