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
    waist = widths[int(h * 0.45): int(h * 0.55) + 1].mean()
    hem = widths[-max(1, h // 10):].mean()
    # Dresses are long, and their skirts flare out below the waist; long tops hang straight.
    if aspect > 2.2 or (aspect > 1.4 and hem > 1.2 * waist):
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
