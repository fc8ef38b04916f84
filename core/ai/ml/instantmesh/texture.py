"""Colour for the extracted mesh: per-vertex colours, or a UV texture map.

The texture map is parametrised with xatlas; the original then rasterises the UV layout with
nvdiffrast (a CUDA extension under NVIDIA's licence). Here a small rasteriser of our own does it
on the CPU with numpy: each chart triangle's texels get barycentric coordinates, hence 3D points
at which the colour head is queried.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from scipy import ndimage

from core.ai.ml.instantmesh.model import InstantMesh
from core.ai.ml.instantmesh.surface import CHUNK


@torch.no_grad()
def query_rgb(model: InstantMesh, planes: torch.Tensor, points: np.ndarray) -> np.ndarray:
    """Colours in [0, 1] (float32, [N, 3]) at points in model units."""
    p = torch.as_tensor(points, dtype=torch.float32, device=planes.device)
    out = [model.synthesizer.rgb(planes, c[None])[0].float() for c in p.split(CHUNK)]
    return (torch.cat(out).clamp(0, 1).cpu().numpy() if out else np.zeros((0, 3))).astype(np.float32)


def vertex_colours(model: InstantMesh, planes: torch.Tensor, vertices: np.ndarray) -> np.ndarray:
    """uint8 RGBA per vertex (colour truncated, as the original does)."""
    rgb = (query_rgb(model, planes, vertices) * 255).astype(np.uint8)
    return np.concatenate([rgb, np.full((len(rgb), 1), 255, np.uint8)], axis=1)


def rasterise_uv(uv: np.ndarray, faces: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each covered texel (centre sampling): its pixel (row, col), triangle and barycentrics.
    Rows count from the image top, UV v from the bottom (glTF images are stored top-down)."""
    pix_rows, pix_cols, tris, bary = [], [], [], []
    p = uv * size - 0.5  # texel centres at integer coordinates
    tri = p[faces]  # [F, 3, 2]
    lo = np.clip(np.floor(tri.min(axis=1)).astype(int) + 1, 0, size - 1)
    hi = np.clip(np.floor(tri.max(axis=1)).astype(int), 0, size - 1)
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    # Group triangles by bounding-box size so each group is one vectorised pass.
    span = np.maximum(hi - lo + 1, 0).max(axis=1)
    for s in np.unique(span):
        idx = np.flatnonzero((span == s) & (np.abs(area) > 1e-12))
        if s == 0 or not len(idx):
            continue
        oy, ox = np.mgrid[0:s, 0:s]
        px = lo[idx, 0, None] + ox.reshape(1, -1)
        py = lo[idx, 1, None] + oy.reshape(1, -1)
        ai, bi, ci, ar = a[idx], b[idx], c[idx], area[idx, None]
        w0 = ((bi[:, 0, None] - px) * (ci[:, 1, None] - py) - (bi[:, 1, None] - py) * (ci[:, 0, None] - px)) / ar
        w1 = ((ci[:, 0, None] - px) * (ai[:, 1, None] - py) - (ci[:, 1, None] - py) * (ai[:, 0, None] - px)) / ar
        w2 = 1 - w0 - w1
        inside = (w0 >= 0) & (w1 >= 0) & (w2 >= 0) & (px < size) & (py < size)
        t, k = np.nonzero(inside)
        pix_rows.append(size - 1 - py[t, k])
        pix_cols.append(px[t, k])
        tris.append(idx[t])
        bary.append(np.stack([w0[t, k], w1[t, k], w2[t, k]], 1))
    if not tris:
        return np.zeros((0, 2), int), np.zeros(0, int), np.zeros((0, 3))
    return np.stack([np.concatenate(pix_rows), np.concatenate(pix_cols)], 1), np.concatenate(tris), np.concatenate(bary)


def texture_map(model: InstantMesh, planes: torch.Tensor, vertices: np.ndarray, faces: np.ndarray,
                size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, Image.Image]:
    """xatlas UV layout + the colour head sampled at each covered texel. Returns the re-indexed
    vertices (seams split), faces, UVs and the texture (empty texels take the nearest colour)."""
    import xatlas

    vmap, new_faces, uv = xatlas.parametrize(vertices.astype(np.float32), faces.astype(np.uint32))
    new_vertices = vertices[vmap]
    pix, tri, bary = rasterise_uv(uv, new_faces.astype(np.int64), size)
    points = np.einsum("nk,nkd->nd", bary, new_vertices[new_faces[tri]])
    image = np.zeros((size, size, 3), np.float32)
    covered = np.zeros((size, size), bool)
    image[pix[:, 0], pix[:, 1]] = query_rgb(model, planes, points)
    covered[pix[:, 0], pix[:, 1]] = True
    if covered.any():  # fill the gaps between charts so that mipmaps and filtering don't bleed black
        _, (ri, ci) = ndimage.distance_transform_edt(~covered, return_indices=True)
        image = image[ri, ci]
    tex = Image.fromarray((image * 255).astype(np.uint8))
    return new_vertices, new_faces.astype(np.int64), uv.astype(np.float32), tex
