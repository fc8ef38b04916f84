"""Benchmark: fidelity against ground truth. Each 3D garment is rendered from the front into a
product-style photo, reconstructed by the silhouette path, and compared with the original: front
silhouette IoU and Chamfer distance, both after scaling to the original's height.

Usage: python benchmarks/fidelity.py [MESH_DIR] [--texture UV.png]
MESH_DIR holds OBJ/GLB/PLY garments (e.g. ../shared/testdata/garments3d); without it, garments
drawn by core.samples are reconstructed once and used as ground truth. Prints figures only.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
import trimesh
from common import table
from PIL import Image
from scipy import ndimage
from scipy.spatial import cKDTree

from core.ai.reconstructors import REGISTRY
from core.ai.segment import Cutout
from core.ai.silhouette import reconstruct
from core.garment import registry as categories
from core.garment.parse import parse_mask
from core.mesh.importer import front_mask, load_mesh, orient, scale_and_anchor
from core.mesh.render import RayScene
from core.pipeline import photo_to_garment
from core.samples import draw_garment

PX_PER_M = 400


def ground_truths(folder: Path | None, texture: Path | None):
    if folder is None:
        for category in ("top", "bottom", "dress"):
            photo, mask = draw_garment(category)
            yield f"drawn-{category}", reconstruct(Cutout(np.asarray(photo), mask, "truth"), category, "med").mesh
        return
    image = Image.open(texture).convert("RGB") if texture else None
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in (".obj", ".glb", ".ply")):
        mesh, fmt = load_mesh(path.read_bytes(), path.name, 200 * 2**20)
        item = orient(mesh, fmt == "glb")
        category = parse_mask(front_mask(item.mesh)).category
        mesh = scale_and_anchor(item, "auto", categories.REGISTRY[category].length_m).mesh
        if image is not None and getattr(mesh.visual, "uv", None) is not None:
            mesh.visual = trimesh.visual.TextureVisuals(uv=mesh.visual.uv, image=image)
        yield path.name, mesh


def mask_in_frame(mesh: trimesh.Trimesh, size: int = 1024) -> np.ndarray:
    """Front silhouette on a fixed grid (PX_PER_M), anchored at the top centre."""
    xy = mesh.vertices[:, :2] * [1.0, -1.0] * PX_PER_M + [size / 2, 8]
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, list(np.round(xy[mesh.faces]).astype(np.int32)), 1)
    return ndimage.binary_fill_holes(ndimage.binary_closing(mask.astype(bool), iterations=2))


def to_height(mesh: trimesh.Trimesh, height: float) -> trimesh.Trimesh:
    out = mesh.copy()
    out.apply_scale(height / float(np.ptp(out.vertices[:, 1])))
    lo, hi = out.bounds
    out.apply_translation([-(lo[0] + hi[0]) / 2, -hi[1], -(lo[2] + hi[2]) / 2])
    return out


def chamfer(a: trimesh.Trimesh, b: trimesh.Trimesh, n: int = 20000) -> float:
    pa, pb = a.sample(n, seed=1), b.sample(n, seed=2)  # fixed seeds keep runs comparable
    return float((cKDTree(pb).query(pa)[0].mean() + cKDTree(pa).query(pb)[0].mean()) / 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("meshes", type=Path, nargs="?")
    ap.add_argument("--texture", type=Path, help="texture for meshes that have UVs but no image (e.g. UV.png)")
    args = ap.parse_args()
    rows = []
    for name, truth in ground_truths(args.meshes, args.texture):
        photo = RayScene([truth]).image(size=1024, yaw_deg=0.0, pitch_deg=0.0, supersample=1.0, fov_deg=2.0)
        t0 = time.perf_counter()
        files = photo_to_garment(photo, None, "med", REGISTRY["silhouette"])
        seconds = time.perf_counter() - t0
        height = float(np.ptp(truth.vertices[:, 1]))
        rec = to_height(files.mesh, height)
        gt = to_height(truth, height)
        a, b = mask_in_frame(gt), mask_in_frame(rec)
        iou = float((a & b).sum() / max((a | b).sum(), 1))
        cd = chamfer(gt, rec)
        rows.append({"garment": name, "category": files.category, "height_m": height, "iou": iou,
                     "chamfer_cm": cd * 100, "chamfer_%h": 100 * cd / height, "faces": files.stats["faces"],
                     "seconds": seconds})
    print(table(rows, ["garment", "category", "height_m", "iou", "chamfer_cm", "chamfer_%h", "faces", "seconds"]))
    print(f"\ncases: {len(rows)}  IoU p50={np.median([r['iou'] for r in rows]):.3f} "
          f"min={min(r['iou'] for r in rows):.3f}  Chamfer p50={np.median([r['chamfer_cm'] for r in rows]):.2f} cm")


if __name__ == "__main__":
    main()
