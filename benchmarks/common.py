"""Helpers shared by the benchmarks: inputs (drawn or from a folder), peak memory, tables."""

from __future__ import annotations

import resource
import statistics
import sys
from collections.abc import Iterator
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.samples import draw_garment

PHOTO_EXT = {".jpg", ".jpeg", ".png", ".webp"}


def photos(folder: Path | None, limit: int | None) -> Iterator[tuple[str, Image.Image, str | None]]:
    """(name, image, label) from a folder (labels.tsv read when present), else drawn garments."""
    if folder is None:
        for category in ("top", "bottom", "dress"):
            yield f"drawn-{category}", draw_garment(category)[0], category
        return
    labels = label_column(folder, 1)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_EXT)[:limit]
    for path in files:
        with Image.open(path) as im:
            yield path.name, im.convert("RGB"), labels.get(path.name)


def label_column(folder: Path | None, column: int) -> dict[str, str]:
    """One column of a folder's labels.tsv by file name (1: category, 2: sleeves or legs); {} without one."""
    tsv = folder / "labels.tsv" if folder else None
    if tsv is None or not tsv.is_file():
        return {}
    rows = [line.split("\t") for line in tsv.read_text().splitlines()]
    return {r[0]: r[column] for r in rows if len(r) > column}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def table(rows: list[dict], columns: list[str]) -> str:
    widths = {c: max(len(c), *(len(fmt(r.get(c))) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  ".join(fmt(r.get(c)).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


def fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    return "" if v is None else str(v)


def median(rows: list[dict], key: str) -> float:
    values = [r[key] for r in rows if isinstance(r.get(key), int | float)]
    return statistics.median(values) if values else float("nan")
