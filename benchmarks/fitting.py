"""Benchmark: fitting onto every preset and one custom avatar; the fit report per case
(penetration, clearance, stretch, time), and the goal's case timed: a garment of 20k faces.

Usage: python benchmarks/fitting.py [DIR ...] [--limit N] [--no-custom]
Each DIR may hold 3D garments (OBJ/GLB/PLY: imported as the app imports them) and photos
(reconstructed with the silhouette path, quality low). Without DIRs, drawn garments are used.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import trimesh
from common import PHOTO_EXT, peak_rss_mb, photos, table

from core.ai.category import guess_category
from core.ai.reconstructors import REGISTRY
from core.ai.silhouette import GARMENT_SIZE
from core.avatars.custom import Measurements, solve
from core.avatars.presets import load_presets
from core.errors import InputError
from core.fitting.body import BodyModel
from core.fitting.fit import FitLayer, fit
from core.mesh.cleanup import clean, decimate
from core.mesh.importer import front_mask, load_mesh, orient, scale_and_anchor
from core.pipeline import photo_to_garment

MESH_EXT = {".obj", ".glb", ".ply"}
CUSTOM = Measurements(height_cm=168, chest_cm=90, waist_cm=72, hips_cm=98, gender="female")


def garments(dirs: list[Path], limit: int | None):
    if not dirs:
        for name, image, label in photos(None, None):
            g = photo_to_garment(image, label, "low", REGISTRY["silhouette"])
            yield name, g.mesh, g.category
        return
    for folder in dirs:
        for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in MESH_EXT):
            mesh, fmt = load_mesh(path.read_bytes(), path.name, 200 * 2**20)
            item = orient(mesh, fmt == "glb")
            category = guess_category(front_mask(item.mesh))
            yield path.name, clean(scale_and_anchor(item, "auto", GARMENT_SIZE[category][0]).mesh), category
        if any(p.suffix.lower() in PHOTO_EXT for p in folder.iterdir()):
            for name, image, label in photos(folder, limit):
                try:
                    g = photo_to_garment(image, label, "low", REGISTRY["silhouette"])
                except InputError as exc:  # e.g. a texture image lying beside the meshes
                    print(f"skipped {name}: {exc}")
                    continue
                yield name, g.mesh, g.category


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("dirs", type=Path, nargs="*")
    ap.add_argument("--limit", type=int, default=6, help="photos per folder")
    ap.add_argument("--no-custom", action="store_true", help="skip the custom avatar (its solve takes ~10 s)")
    args = ap.parse_args()
    bodies = [(p.slug, BodyModel(trimesh.load(p.glb, force="mesh"), p.meta["landmarks"], p.meta["measurements"]))
              for p in load_presets()]
    if not args.no_custom:
        t0 = time.perf_counter()
        solved = solve(CUSTOM)
        print(f"custom avatar {CUSTOM.key}: solved in {time.perf_counter() - t0:.1f} s, "
              f"off by {solved.error_cm} cm")
        bodies.append(("custom-168", BodyModel(solved.body.mesh, solved.body.landmarks, solved.body.measurements)))
    for _, body in bodies:
        body.prepared()  # built once per avatar, as the app keeps it; not part of a fit's time
    rows, biggest = [], None
    for gname, mesh, category in garments(args.dirs, args.limit):
        if biggest is None or len(mesh.faces) > len(biggest[1].faces):
            biggest = (gname, mesh, category)
        for slug, body in bodies:
            t0 = time.perf_counter()
            out = fit([FitLayer(mesh, category, category)], body, offset_mm=4.0)
            seconds = time.perf_counter() - t0
            (layer,) = out.metrics["layers"]
            rows.append({"garment": gname, "category": category, "avatar": slug, "faces": len(mesh.faces),
                         "inside_%": 100 * layer["inside_share"], "deepest_mm": layer["max_penetration_mm"],
                         "clear_p5_mm": layer["clearance_mm_p5"], "clear_p50_mm": layer["clearance_mm_p50"],
                         "stretch_med_%": 100 * (layer["stretch_median"] - 1),
                         "stretch_p95_%": 100 * (layer["stretch_p95"] - 1), "fit_s": seconds})
    print(table(rows, ["garment", "category", "avatar", "faces", "inside_%", "deepest_mm", "clear_p5_mm",
                       "clear_p50_mm", "stretch_med_%", "stretch_p95_%", "fit_s"]))
    print(f"\ncases: {len(rows)}  worst inside: {max(r['inside_%'] for r in rows):.3f} %  "
          f"deepest: {max(r['deepest_mm'] for r in rows):.2f} mm  "
          f"clearance p5 median: {np.median([r['clear_p5_mm'] for r in rows if r['clear_p5_mm']]):.2f} mm")
    print(f"stretch median p50={np.median([r['stretch_med_%'] for r in rows]):.2f} %  "
          f"p95 p50={np.median([r['stretch_p95_%'] for r in rows]):.2f} % "
          f"max={max(r['stretch_p95_%'] for r in rows):.2f} %")
    print(f"stretch p95 within 15 %: {sum(r['stretch_p95_%'] <= 15 for r in rows)} of {len(rows)} cases")
    print(f"time: fit p50={np.median([r['fit_s'] for r in rows]):.3f} s  peak RSS: {peak_rss_mb():.0f} MB")
    time_20k(*biggest, bodies)


def time_20k(name: str, mesh: trimesh.Trimesh, category: str, bodies, repeats: int = 15) -> None:
    """The goal's own case: one garment of 20k faces (the biggest garment, refined or decimated
    to 20k), fitted `repeats` times on each avatar."""
    while len(mesh.faces) < 20_000:
        mesh = mesh.subdivide()
    mesh = decimate(mesh, 20_000)  # as the importer decimates, UVs kept
    for slug, body in bodies:
        seconds = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fit([FitLayer(mesh, category, category)], body, offset_mm=4.0)
            seconds.append(time.perf_counter() - t0)
        print(f"20k faces ({name} as {len(mesh.faces)} faces) on {slug}: median {np.median(seconds):.3f} s, "
              f"p90 {np.percentile(seconds, 90):.3f} s, fastest {min(seconds):.3f} s")


if __name__ == "__main__":
    main()
