"""Benchmark: garment photo → 3D (silhouette), per stage, as p50/p95, with output sizes and peak RSS;
with --masks, the cut-out's IoU per photo against reference masks (MASKS_DIR/<photo stem>.png).

Usage: python benchmarks/reconstruction.py [PHOTOS_DIR] [--quality low|med] [--limit N] [--masks MASKS_DIR]
                                           [--segmenter classical|auto|rembg]
Without PHOTOS_DIR it runs on drawn garments. The cut-out is the classical one unless --segmenter
says otherwise (auto and rembg read REMBG_MODEL and REMBG_DOWNLOAD). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

import numpy as np
from common import peak_rss_mb, photos, table
from PIL import Image

from core.ai.reconstructors import REGISTRY
from core.ai.segment import cut_out, segmenter_for
from core.config import Settings
from core.mesh.export import glb_geometry_bytes
from core.pipeline import job_seconds, photo_to_garment, thumbnail
from core.uploads import validate_image

# total: up to the job's `done`; the thumbnail is made after it (one of its extras)
STAGES = ["decode", "cut-out", "category", "reconstruction", "cleanup", "export", "preview", "total", "thumbnail"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("photos", type=Path, nargs="?")
    ap.add_argument("--quality", choices=["low", "med"], default="low")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--masks", type=Path, help="reference masks, <photo stem>.png (white = garment)")
    ap.add_argument("--segmenter", choices=["classical", "auto", "rembg"], default="classical")
    args = ap.parse_args()
    segmenter = segmenter_for(Settings(segmenter=args.segmenter))
    rows = []
    for name, image, label in photos(args.photos, args.limit):
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=92)  # what an upload brings: encoded bytes
        t0 = time.perf_counter()
        valid = validate_image(buf.getvalue(), max_bytes=10 * 2**20, max_side=8192, max_pixels=40_000_000)
        decode_s = time.perf_counter() - t0
        files = photo_to_garment(valid.image, None, args.quality, REGISTRY["silhouette"], segmenter=segmenter)
        t0 = time.perf_counter()
        thumb = thumbnail([files.mesh])
        thumb_s = time.perf_counter() - t0
        geo_plain, geo_draco = glb_geometry_bytes(files.glb), glb_geometry_bytes(files.draco_glb)
        rows.append({"photo": name, "label": label, "detected": files.category, "iou": cutout_iou(
                         valid.image, segmenter, args.masks / f"{Path(name).stem}.png") if args.masks else None,
                     "decode": decode_s,
                     **files.timings, "total": decode_s + job_seconds(files.timings), "thumbnail": thumb_s,
                     "faces": files.stats["faces"], "open": files.stats["openings"],
                     "glb_kb": len(files.glb) // 1024, "draco_kb": len(files.draco_glb) // 1024,
                     "geo_ratio": geo_draco / geo_plain, "thumb_kb": len(thumb) // 1024})
    print(table(rows, ["photo", "label", "detected", *(["iou"] if args.masks else []), *STAGES, "faces", "open",
                       "glb_kb", "draco_kb", "geo_ratio", "thumb_kb"]))
    labelled = [r for r in rows if r["label"]]
    right = sum(r["label"] == r["detected"] for r in labelled)
    print(f"\nphotos: {len(rows)}  quality: {args.quality}  category right: {right}/{len(labelled)}")
    for q in (50, 95):
        print(f"p{q} s: " + "  ".join(f"{s}={np.percentile([r[s] for r in rows], q):.3f}" for s in STAGES))
    print(f"cut-out ({segmenter.method}): time p50 {np.percentile([r['cut-out'] for r in rows], 50):.3f} s "
          f"p95 {np.percentile([r['cut-out'] for r in rows], 95):.3f} s")
    if scored := [r for r in rows if r["iou"] is not None]:
        worst = min(scored, key=lambda r: r["iou"])
        print(f"cut-out IoU against {len(scored)} masks: median {np.median([r['iou'] for r in scored]):.4f}  "
              f"worst {worst['iou']:.4f} ({worst['photo']})")
    print(f"p50 sizes: glb={np.median([r['glb_kb'] for r in rows]):.0f} KB  "
          f"draco={np.median([r['draco_kb'] for r in rows]):.0f} KB  "
          f"draco/plain geometry={np.median([r['geo_ratio'] for r in rows]):.3f}  "
          f"thumb={np.median([r['thumb_kb'] for r in rows]):.0f} KB  peak RSS: {peak_rss_mb():.0f} MB")


def cutout_iou(image: Image.Image, segmenter, mask_path: Path) -> float | None:
    """The cut-out's IoU against the reference mask at `mask_path` (None without one)."""
    if not mask_path.is_file():
        return None
    with Image.open(mask_path) as im:
        truth = np.asarray(im.convert("L")) > 127
    mask = cut_out(image, segmenter).mask
    return float((mask & truth).sum() / max((mask | truth).sum(), 1))


if __name__ == "__main__":
    main()
