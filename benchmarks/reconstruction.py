"""Benchmark: garment photo → 3D (silhouette), per stage, as p50/p95, with output sizes and peak RSS.

Usage: python benchmarks/reconstruction.py [PHOTOS_DIR] [--quality low|med] [--limit N]
Without PHOTOS_DIR it runs on drawn garments. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

import numpy as np
from common import peak_rss_mb, photos, table

from core.ai.reconstructors import REGISTRY
from core.mesh.export import glb_geometry_bytes
from core.pipeline import photo_to_garment
from core.uploads import validate_image

STAGES = ["decode", "cut-out", "category", "reconstruction", "cleanup", "export", "thumbnail", "total"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("photos", type=Path, nargs="?")
    ap.add_argument("--quality", choices=["low", "med"], default="low")
    ap.add_argument("--limit", type=int)
    args = ap.parse_args()
    rows = []
    for name, image, label in photos(args.photos, args.limit):
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=92)  # what an upload brings: encoded bytes
        t0 = time.perf_counter()
        valid = validate_image(buf.getvalue(), max_bytes=10 * 2**20, max_side=8192, max_pixels=40_000_000)
        decode_s = time.perf_counter() - t0
        files = photo_to_garment(valid.image, None, args.quality, REGISTRY["silhouette"])
        geo_plain, geo_draco = glb_geometry_bytes(files.glb), glb_geometry_bytes(files.draco_glb)
        rows.append({"photo": name, "label": label, "detected": files.category, "decode": decode_s,
                     **files.timings, "total": decode_s + sum(files.timings.values()),
                     "faces": files.stats["faces"], "open": files.stats["openings"],
                     "glb_kb": len(files.glb) // 1024, "draco_kb": len(files.draco_glb) // 1024,
                     "geo_ratio": geo_draco / geo_plain, "thumb_kb": len(files.thumbnail) // 1024})
    print(table(rows, ["photo", "label", "detected", *STAGES, "faces", "open", "glb_kb", "draco_kb", "geo_ratio",
                       "thumb_kb"]))
    labelled = [r for r in rows if r["label"]]
    right = sum(r["label"] == r["detected"] for r in labelled)
    print(f"\nphotos: {len(rows)}  quality: {args.quality}  category right: {right}/{len(labelled)}")
    for q in (50, 95):
        print(f"p{q} s: " + "  ".join(f"{s}={np.percentile([r[s] for r in rows], q):.3f}" for s in STAGES))
    print(f"p50 sizes: glb={np.median([r['glb_kb'] for r in rows]):.0f} KB  "
          f"draco={np.median([r['draco_kb'] for r in rows]):.0f} KB  "
          f"draco/plain geometry={np.median([r['geo_ratio'] for r in rows]):.3f}  "
          f"thumb={np.median([r['thumb_kb'] for r in rows]):.0f} KB  peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
