"""Fit a pattern's parameters to a silhouette: maximise the overlap (IoU) of the pattern's drawn
outline with the mask, by Nelder-Mead from a few starts (the overlap is piecewise constant in
pixels, so no gradient; a small raster keeps each evaluation to tens of microseconds)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.optimize import minimize

from core.garment.patterns import Pattern

SIDE = 64  # the parse raster's height in pixels
MAX_EVALS = 500  # per start


@dataclass(frozen=True)
class Frame:
    """The parse frame of one mask: its crop resized to SIDE rows, and the centre line's column."""

    mask: np.ndarray  # bool (SIDE, width)
    centre: float  # column of the centre line
    area: int

    @classmethod
    def of(cls, mask: np.ndarray) -> Frame:
        ys, xs = np.nonzero(mask)
        if not len(ys):
            raise ValueError("empty mask")
        crop = mask[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1].astype(np.float32)
        scale = SIDE / crop.shape[0]
        width = max(4, round(crop.shape[1] * scale))
        pad = SIDE // 4  # room for a pattern drawn a little past the silhouette
        small = cv2.resize(crop, (width, SIDE), interpolation=cv2.INTER_AREA) >= 0.5
        small = np.pad(small, ((1, 1), (pad, pad)))
        # The centre line: the middle of the upper third's rows (collar and shoulders, or the
        # waistband), which a tie or a one-sided hem does not move.
        rows = small[1: 1 + SIDE // 3]
        have = rows.any(axis=1)
        first = rows.argmax(axis=1)
        last = rows.shape[1] - 1 - rows[:, ::-1].argmax(axis=1)
        centre = float(np.median(((first + last) / 2)[have])) if have.any() else small.shape[1] / 2
        return cls(small, centre, int(small.sum()))

    def central_run(self) -> np.ndarray:
        """Per row, only the run of cloth through the centre line: the torso, as far as a flat
        silhouette shows it (sleeves laid along it are in it too)."""
        c = int(round(self.centre))
        cols = np.arange(self.mask.shape[1])
        gap = ~self.mask
        right = np.where(gap[:, c:].any(axis=1), c + gap[:, c:].argmax(axis=1), self.mask.shape[1])
        left = np.where(gap[:, c::-1].any(axis=1), c - gap[:, c::-1].argmax(axis=1), -1)
        return self.mask & (cols > left[:, None]) & (cols < right[:, None])

    def only(self, mask: np.ndarray) -> Frame:
        """This frame with another mask (the same centre line)."""
        return Frame(mask, self.centre, int(mask.sum()))

    def pixels(self, poly: np.ndarray) -> np.ndarray:
        """Pattern coordinates (x across, y down, in heights) to pixel coordinates."""
        return np.stack([poly[:, 0] * SIDE + self.centre, poly[:, 1] * SIDE + 1.0], axis=1)

    def draw(self, polygons: list[np.ndarray], shape: tuple[int, int] | None = None, value: int = 1,
             smooth: bool = False) -> np.ndarray:
        """The polygons filled (with anti-aliased edges, 0-255, when `smooth`)."""
        canvas = np.zeros(shape or self.mask.shape, np.uint8)
        cv2.fillPoly(canvas, [np.round(self.pixels(p) * 16).astype(np.int32) for p in polygons],
                     255 if smooth else value, lineType=cv2.LINE_AA if smooth else cv2.LINE_8, shift=4)
        return canvas

    def iou(self, polygon: np.ndarray) -> float:
        """Soft IoU: edge pixels count by the share of them the polygon covers, so that the overlap
        changes smoothly as a point moves and the search can follow it below a pixel."""
        drawn = self.draw([polygon], smooth=True).astype(np.float32)
        inter = float(drawn[self.mask].sum())
        return inter / max(self.area * 255.0 + float(drawn.sum()) - inter, 1.0)


@dataclass(frozen=True)
class Fitted:
    pattern: Pattern
    x: np.ndarray
    iou: float


def fit_pattern(frame: Frame, pattern: Pattern, starts: np.ndarray, fixed: dict[int, float] | None = None,
                polish: int = 2) -> Fitted:
    """Score every start (a coarse grid over the parameters that decide the shape, around the
    measured ones), then refine the best `polish` of them by Powell's method;
    `fixed` holds parameters out of the search."""
    fixed = fixed or {}
    free = [i for i in range(len(pattern.params)) if i not in fixed]
    low, high = np.array(pattern.bounds).T
    starts = np.clip(np.atleast_2d(starts), low, high)
    for i, v in fixed.items():
        starts[:, i] = v

    def full(y: np.ndarray) -> np.ndarray:
        x = starts[0].copy()
        x[free] = np.clip(y, low[free], high[free])  # clipped here: scipy's bounded Powell can end worse than it began
        return x

    def loss(y: np.ndarray) -> float:
        return 1.0 - frame.iou(pattern.outline(full(y)))

    scores = np.array([loss(x[free]) for x in starts])
    best: Fitted | None = None
    for k in np.argsort(scores)[:polish]:
        result = minimize(loss, starts[k][free], method="Powell", options={"maxfev": MAX_EVALS, "xtol": 1e-3, "ftol": 1e-4})
        candidate = Fitted(pattern, full(result.x), 1.0 - float(result.fun))
        if best is None or candidate.iou > best.iou:
            best = candidate
    assert best is not None
    return best
