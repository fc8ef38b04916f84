"""Garment category from the silhouette's shape: tops, bottoms, dresses (outerwear is chosen by the user)."""

from __future__ import annotations

import numpy as np

CATEGORIES = ("top", "bottom", "dress", "outer")


def guess_category(mask: np.ndarray) -> str:
    ys, xs = np.nonzero(mask)
    crop = mask[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]
    h, w = crop.shape
    widths = crop.sum(axis=1) / w
    aspect = h / w
    if _two_legs(crop):
        return "bottom"
    top_w = widths[: max(1, h // 3)].max()
    low_w = widths[-max(1, h // 5):].mean()
    if aspect > 1.25 and low_w > 0.55 * top_w:
        return "dress"
    return "top"


def _two_legs(crop: np.ndarray) -> bool:
    """Trousers and shorts: the lower part splits into two runs with a gap in the middle."""
    h, w = crop.shape
    rows = crop[int(h * 0.75): int(h * 0.95)]
    if rows.size == 0:
        return False
    runs = np.count_nonzero(np.diff(rows.astype(np.int8), axis=1) == 1, axis=1) + rows[:, 0]
    centre = rows[:, int(w * 0.45): int(w * 0.55)].mean()
    return bool(np.median(runs) >= 2 and centre < 0.3)
