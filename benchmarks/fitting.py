"""Benchmark: fitting onto every preset. Per-case fit report (penetration, clearance, stretch, time).

Usage: python benchmarks/fitting.py [PHOTOS_DIR] [--limit N]
Garments are reconstructed (silhouette, low) from the photos, or drawn when no folder is given.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import trimesh
from common import median, peak_rss_mb, photos, table

from core.ai.reconstructors import REGISTRY
from core.avatars.presets import load_presets
from core.fitting.body import BodyModel
from core.fitting.fit import FitLayer
from core.pipeline import dress, photo_to_garment


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("photos", type=Path, nargs="?")
    ap.add_argument("--limit", type=int, default=6)
    args = ap.parse_args()
    bodies = [(p.slug, BodyModel(trimesh.load(p.glb, force="mesh"), p.meta["landmarks"], p.meta["measurements"]))
              for p in load_presets()]
    garments = [(name, photo_to_garment(img, label, "low", REGISTRY["silhouette"]))
                for name, img, label in photos(args.photos, args.limit)]
    rows = []
    for gname, g in garments:
        for slug, body in bodies:
            t0 = time.perf_counter()
            out = dress([FitLayer(g.mesh, g.category, g.category)], body, offset_mm=4.0)
            (layer,) = out.metrics["layers"]
            rows.append({"garment": gname, "category": g.category, "avatar": slug,
                         "inside_%": 100 * layer["inside_share"], "deepest_mm": layer["max_penetration_mm"],
                         "clear_p5_mm": layer["clearance_mm_p5"], "clear_p50_mm": layer["clearance_mm_p50"],
                         "stretch_med": layer["stretch_median"], "stretch_p95": layer["stretch_p95"],
                         "fit_s": out.timings["fitting"], "export_s": out.timings["export"],
                         "total_s": time.perf_counter() - t0, "glb_kb": len(out.glb) // 1024,
                         "draco_kb": len(out.draco_glb) // 1024})
    print(table(rows, ["garment", "category", "avatar", "inside_%", "deepest_mm", "clear_p5_mm", "clear_p50_mm",
                       "stretch_med", "stretch_p95", "fit_s", "export_s", "total_s", "glb_kb", "draco_kb"]))
    print(f"\ncases: {len(rows)}  worst inside: {max(r['inside_%'] for r in rows):.3f} %  "
          f"deepest: {max(r['deepest_mm'] for r in rows):.2f} mm")
    print(f"median s: fit={median(rows, 'fit_s'):.3f}  export={median(rows, 'export_s'):.3f}  "
          f"total={median(rows, 'total_s'):.3f}  process peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
