"""Benchmark: the garment parser on photos, against their labels (category, and sleeves or legs);
per photo the parse (category, sleeve or leg kind, confidence, IoU of its pattern), totals, the
parse's time and the parse + reconstruction time at `low` (the [H] issue's goal: <= 0.3 s p50).

Usage: python benchmarks/parsing.py [PHOTOS_DIR]
Without a folder the drawn garments are used. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from common import label_column, peak_rss_mb, photos, table

from core.ai.reconstructors import REGISTRY
from core.ai.segment import cut_out
from core.errors import InputError
from core.garment.parse import parse_mask

# The labels say none, short or long; the parser tells cap and three-quarter sleeves apart too.
SIMPLE = {"cap": "short", "short": "short", "three_quarter": "long", "long": "long", "none": "none"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("folder", type=Path, nargs="?")
    args = ap.parse_args()
    truth_kind = label_column(args.folder, 2)  # sleeves, or legs
    rows, parse_s, total_s = [], [], []
    for name, image, label in photos(args.folder, None):
        cutout = cut_out(image)
        t0 = time.perf_counter()
        try:
            parse = parse_mask(cutout.mask)
        except InputError as exc:
            rows.append({"photo": name, "truth": f"{label}/{truth_kind.get(name, '?')}", "parse": "refused",
                         "ok": "-", "note": str(exc)[:40]})
            continue
        parse_s.append(time.perf_counter() - t0)
        REGISTRY["silhouette"].reconstruct(cutout, parse.category, "low", parse=parse)
        total_s.append(time.perf_counter() - t0)
        kind = SIMPLE.get(parse.kind, parse.kind)
        right_cat = label is None or parse.category == label
        right_kind = name not in truth_kind or kind == truth_kind[name]
        rows.append({"photo": name, "truth": f"{label}/{truth_kind.get(name, '?')}",
                     "parse": f"{parse.category}/{parse.kind}", "confidence": parse.confidence, "iou": parse.iou,
                     "ok": ("" if right_cat else "CATEGORY ") + ("" if right_kind else "KIND") or "yes",
                     "parse_s": parse_s[-1]})
    print(table(rows, ["photo", "truth", "parse", "confidence", "iou", "ok", "parse_s"]))
    n = len(rows)
    cat_ok = sum(r["ok"] in ("yes", "KIND") for r in rows)
    kind_ok = sum(r["ok"] in ("yes", "CATEGORY ") for r in rows)
    print(f"\nphotos: {n}  category right: {cat_ok}/{n}  sleeves or legs right: {kind_ok}/{n}  "
          f"refused: {sum(r['parse'] == 'refused' for r in rows)}")
    if parse_s:
        print(f"parse s: p50={np.median(parse_s):.3f} p95={np.percentile(parse_s, 95):.3f}  "
              f"parse + reconstruct (low) s: p50={np.median(total_s):.3f} p95={np.percentile(total_s, 95):.3f}  "
              f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
