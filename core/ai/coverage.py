"""The outline's coverage: how much of each edge pixel is garment, so that the mask scaled up to the
photo keeps a sub-pixel edge and sheds the halo, shadow or fringe that sits on the backdrop's side."""

from __future__ import annotations

import cv2
import numpy as np

from core.ai.morphology import DISK1


def coverage(lab: np.ndarray, fg: np.ndarray, backdrop: np.ndarray, passes: int = 4) -> np.ndarray:
    """The mask as a fraction per pixel: 1 inside, 0 outside, and on the outline the pixel's position
    between the backdrop's colour and the garment's colour just inside. A cast shadow, a JPEG halo, a
    composite's fringe of its source's own backdrop or an anti-aliased edge sits near the backdrop's
    end: it is peeled off, pass by pass. Where the two colours are too close to tell apart (white on
    white), the binary mask stays."""
    fg = fg.copy()
    smooth = cv2.blur(lab, (3, 3))
    for step in range(passes):
        # the garment's colour just inside: at the nearest pixel 4 px in (past any halo), so that a
        # stripe's end is weighed against its own stripe
        core = cv2.erode(fg.astype(np.uint8), DISK1, iterations=6)
        if not core.any():
            break
        depth, nearest = cv2.distanceTransformWithLabels(1 - core, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL)
        cy, cx = np.nonzero(core)
        rim = fg & ~cv2.erode(fg.astype(np.uint8), DISK1, iterations=2).astype(bool)
        if step == passes - 1:  # the last pass also weighs the pixels just outside
            rim = cv2.dilate(fg.astype(np.uint8), DISK1, iterations=2).astype(bool) & ~cv2.erode(
                fg.astype(np.uint8), DISK1, iterations=2).astype(bool)
        band = rim & (depth <= 10)
        ys, xs = np.nonzero(band)
        if not len(ys):
            break
        alpha, ok = _alpha(lab, smooth, backdrop, core, cy, cx, nearest[ys, xs] - 1, ys, xs)
        if step < passes - 1:
            drop = ok & (alpha < 0.5)
            if not drop.any():
                continue
            fg[ys[drop], xs[drop]] = False
            continue
        soft = fg.astype(np.float32)
        soft[ys[ok], xs[ok]] = np.clip(alpha[ok], 0, 1)
        return soft
    return fg.astype(np.float32)


_AROUND = [(dy, dx) for dy in (-3, 0, 3) for dx in (-3, 0, 3)]


def _alpha(lab: np.ndarray, smooth: np.ndarray, backdrop: np.ndarray, core: np.ndarray, cy: np.ndarray,
           cx: np.ndarray, at: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's position between the backdrop's colour (0) and the garment's (1), the garment's
    colour taken around the nearest pixel well inside: of those colours, the one the pixel is most
    like (a print's light patch at the outline is weighed against the light patch, not the dark spot
    beside it). Decided only where the two colours are 2 ΔE apart at least (below, the edge's colour
    says nothing), and not for a pixel far beyond the backdrop's end: no mixture of the two, but the
    garment's own shade (a stripe's end in a fold)."""
    h, w = core.shape
    here = lab[ys, xs] - backdrop[ys, xs]
    best = np.full(len(ys), -np.inf, np.float32)
    for dy, dx in _AROUND:
        y, x = np.clip(cy[at] + dy, 0, h - 1), np.clip(cx[at] + dx, 0, w - 1)
        gap = smooth[y, x] - backdrop[ys, xs]
        contrast = (gap * gap).sum(1)
        a = (here * gap).sum(1) / np.maximum(contrast, 1e-6)
        a[(contrast <= 4.0) | (core[y, x] == 0)] = -np.inf
        best = np.maximum(best, a)
    return best, best > -0.5
