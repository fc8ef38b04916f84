"""Benchmark: garment photo → 3D (silhouette). Per-stage time, peak memory, output sizes.

Usage: python benchmarks/garment.py [PHOTOS_DIR] [--quality low|med] [--limit N]
Without PHOTOS_DIR it runs on drawn garments. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

from common import PeakPython, median, peak_rss_mb, photos, table

from core.ai.reconstructors import REGISTRY
from core.pipeline import photo_to_garment
from core.uploads import validate_image

STAGES = ["validate", "cut-out", "category", "reconstruction", "cleanup", "export", "thumbnail"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("photos", type=Path, nargs="?")
    ap.add_argument("--quality", choices=["low", "med"], default="low")
    ap.add_argument("--limit", type=int)
    args = ap.parse_args()
    rows = []
    for name, image, label in photos(args.photos, args.limit):
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=92)
        t0 = time.perf_counter()
        valid = validate_image(buf.getvalue(), max_bytes=10 * 2**20, max_side=8192, max_pixels=40_000_000)
        validate_s = time.perf_counter() - t0
        with PeakPython() as peak:
            files = photo_to_garment(valid.image, None, args.quality, REGISTRY["silhouette"])
        row = {"photo": name, "label": label, "detected": files.category, "validate": validate_s,
               **files.timings, "total_s": validate_s + sum(files.timings.values()),
               "faces": files.stats["faces"], "glb_kb": len(files.glb) // 1024,
               "draco_kb": len(files.draco_glb) // 1024, "thumb_kb": len(files.thumbnail) // 1024,
               "py_peak_mb": round(peak.mb, 1)}
        rows.append(row)
    print(table(rows, ["photo", "label", "detected", *STAGES, "total_s", "faces", "glb_kb", "draco_kb",
                       "thumb_kb", "py_peak_mb"]))
    labelled = [r for r in rows if r["label"]]
    right = sum(r["label"] == r["detected"] for r in labelled)
    print(f"\nphotos: {len(rows)}  quality: {args.quality}  category right: {right}/{len(labelled)}")
    print("median s: " + "  ".join(f"{s}={median(rows, s):.3f}" for s in [*STAGES, "total_s"]))
    print(f"median sizes: glb={median(rows, 'glb_kb'):.0f} KB  draco={median(rows, 'draco_kb'):.0f} KB  "
          f"thumb={median(rows, 'thumb_kb'):.0f} KB  process peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
