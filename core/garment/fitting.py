"""Fit a pattern's parameters to a silhouette: maximise the soft overlap (IoU) of the pattern's
drawn pieces with the mask, less a prior's implausibility where one is given, by Powell's method
from the best of a grid of starts (the overlap has no useful gradient; a small raster keeps each
evaluation to tens of microseconds). The frame also measures, at the photo's resolution, what
the raster is too coarse to show: where the silhouette opens from its bottom edge up (between
legs, or between a sleeve and the body)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.optimize import minimize

from core.garment.patterns import Pattern

SIDE = 64  # the parse raster's height in pixels
MAX_EVALS = 500  # per start
INSET = 0.02  # share of a parameter's range its starts keep from its bounds
STEP = 0.1  # share of a parameter's range a search's first steps take
SUBPIXEL = SIDE * 16.0  # pattern units (heights) to OpenCV's fixed-point pixels (4 fractional bits)
CENTRE_BAND = 0.03  # half-width, in heights, of the band about the centre line where legs part
SLIT_REACH = 0.12  # how far either side of a slit, in heights, the cloth it parts is looked for
SEAM_BRIDGE = 0.02  # cloth this short (in heights) across a line between legs laid together is bridged
SPECK = 0.02  # share of the mask's area under which a separate blob is noise
PIECE = 0.1  # share of the area from which a separate blob is a piece of its own
THUMB = 96  # rows of the thumbnail on which the photo's tilt is found
MAX_TILT = 6.0  # degrees: the most a photo is turned upright
MIN_TILT = 2.0  # degrees: the least


@dataclass(frozen=True)
class Openings:
    """Where the silhouette is open from its bottom edge up, at the photo's resolution (the parse
    raster is too coarse to show a gap between legs or sleeves laid together), in heights."""

    centre_gap: float  # at the centre line: between two legs, up to the crotch
    side_slit: float  # the deepest slit off it, between cloth on both sides: a sleeve laid apart from the body
    # the longest line open along the centre line, anywhere in the cloth (legs laid together, wide
    # legs overlapping, show it where they do not quite touch; a skirt's only dip is at its hem),
    # and where it starts, from the top: the crotch is no lower
    centre_seam: float = 0.0
    seam_top: float = 1.0

    @classmethod
    def of(cls, crop: np.ndarray, centre: float) -> Openings:
        height, width = crop.shape
        below = crop[::-1]
        run = np.where(below.any(axis=0), below.argmax(axis=0), height) / height  # per column
        near = np.abs(np.arange(width) - centre) <= CENTRE_BAND * height
        # A slit: open deeper than the cloth on either side of it, within SLIT_REACH.
        reach = max(2, round(SLIT_REACH * height))
        windows = sliding_window_view(np.pad(run, reach, constant_values=1.0), reach).min(axis=1)
        sides = np.maximum(windows[:width], windows[reach + 1: reach + 1 + width])
        seam, seam_end = _longest_open_run(crop[:, near], max(1, round(SEAM_BRIDGE * height)))
        return cls(float(run[near].max(initial=0.0)), float((run - sides)[~near].max(initial=0.0)),
                   seam / height, (seam_end + 1 - seam) / height)


def _longest_open_run(columns: np.ndarray, bridge: int) -> tuple[int, int]:
    """The longest run of open pixels down any of the columns below their first cloth, runs
    parted by at most `bridge` pixels of cloth counted as one: its length and its last row."""
    if not columns.size:
        return 0, len(columns) - 1
    below_top = np.maximum.accumulate(columns > 0, axis=0)  # under the cloth's top edge
    open_ = (~(columns > 0) & below_top).astype(np.uint8)
    kernel = np.ones((2 * bridge + 1, 1), np.uint8)
    closed = cv2.morphologyEx(open_, cv2.MORPH_CLOSE, kernel) & below_top.astype(np.uint8)
    # each open pixel's run so far: its row less the last row of cloth above it
    rows = np.arange(len(closed))[:, None]
    run = rows - np.maximum.accumulate(np.where(closed == 0, rows, -1), axis=0)
    end = int(np.unravel_index(run.argmax(), run.shape)[0])
    return int(run.max()), end


@dataclass(frozen=True)
class Frame:
    """The parse frame of one mask: its crop resized to SIDE rows, and the centre line's column."""

    mask: np.ndarray  # bool (SIDE, width)
    centre: float  # column of the centre line
    area: int
    openings: Openings = field(default_factory=lambda: Openings(0.0, 0.0))

    @classmethod
    def of(cls, mask: np.ndarray) -> Frame:
        """The frame of a mask (its specks dropped first: see pieces_of)."""
        left, top, across, down = cv2.boundingRect(mask.astype(np.uint8))
        if not down:
            raise ValueError("empty mask")
        crop = mask[top: top + down, left: left + across].astype(np.float32)
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
        return cls(small, centre, int(small.sum()), Openings.of(crop > 0, (centre - pad) / scale))

    @property
    def centre_share(self) -> float:
        """The centre line's place across the silhouette's width (0 its left edge, 1 its right)."""
        pad = SIDE // 4
        return float(np.clip((self.centre + 0.5 - pad) / max(self.mask.shape[1] - 2 * pad, 1), 0.0, 1.0))

    def central_run(self) -> np.ndarray:
        """Per row, the run of cloth through the centre line, as wide on both sides as on its
        narrower one: the torso, as far as a flat silhouette shows it (a sleeve laid along it
        is in it, unless the other sleeve shows a gap from the body)."""
        c = round(self.centre)
        gap = ~self.mask
        right = np.where(gap[:, c:].any(axis=1), gap[:, c:].argmax(axis=1), self.mask.shape[1] - c)
        left = np.where(gap[:, c::-1].any(axis=1), gap[:, c::-1].argmax(axis=1), c + 1)
        half = np.minimum(left, right)
        return self.mask & (np.abs(np.arange(self.mask.shape[1]) - c)[None, :] < half[:, None])

    def only(self, mask: np.ndarray) -> Frame:
        """This frame with another mask (the same centre line)."""
        return Frame(mask, self.centre, int(mask.sum()), self.openings)

    def draw(self, polygons: list[np.ndarray], smooth: bool = False) -> np.ndarray:
        """The polygons' union filled (1, or 0-255 with anti-aliased edges when `smooth`). One at a
        time: filled together, OpenCV would leave their overlaps (a sleeve over the body) empty."""
        canvas = np.zeros(self.mask.shape, np.uint8)
        for poly in polygons:
            cv2.fillPoly(canvas, [(poly * SUBPIXEL + self.offset).astype(np.int32)], 255 if smooth else 1,
                         lineType=cv2.LINE_AA if smooth else cv2.LINE_8, shift=4)
        return canvas

    def iou(self, polygons: list[np.ndarray]) -> float:
        """Soft IoU: edge pixels count by the share of them the polygons cover, so that the overlap
        changes smoothly as a point moves and the search can follow it below a pixel."""
        drawn = self.draw(polygons, smooth=True)
        inter = cv2.sumElems(cv2.bitwise_and(drawn, self.mask255))[0]
        return inter / max(self.area * 255.0 + cv2.sumElems(drawn)[0] - inter, 1.0)

    @cached_property
    def offset(self) -> np.ndarray:
        """Where the pattern frame's origin falls, in OpenCV's fixed-point pixels (rounded)."""
        return np.array([self.centre * 16 + 0.5, 0.5 * 16 + 0.5])

    @cached_property
    def mask255(self) -> np.ndarray:
        return self.mask.astype(np.uint8) * 255


def upright(mask: np.ndarray) -> tuple[np.ndarray, float]:
    """The mask turned upright, and by how much (degrees, counter-clockwise as seen): a garment is
    mirror-symmetric about its centre line, so the tilt (within MAX_TILT) about which a thumbnail
    of it is most nearly its own mirror image is the photo's. Tilts under MIN_TILT are left alone
    (the search's own step)."""
    left, top, across, down = cv2.boundingRect(mask.astype(np.uint8))
    crop = mask[top: top + down, left: left + across].astype(np.uint8)
    scale = THUMB / down
    thumb = np.pad(cv2.resize(crop, (max(4, round(across * scale)), THUMB), interpolation=cv2.INTER_AREA),
                   THUMB // 4)
    height, width = thumb.shape
    best, tilt = -1.0, 0.0
    for degrees in np.arange(-MAX_TILT, MAX_TILT + 1e-6, MIN_TILT / 2):
        turned = cv2.warpAffine(thumb, cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0),
                                (width, height), flags=cv2.INTER_LINEAR) > 0
        columns = np.flatnonzero(turned.any(axis=0))
        mirrored = turned[:, ::-1]
        for shift in range(-THUMB // 32, THUMB // 32 + 1):  # the centre line near the middle of the extent
            image = np.roll(mirrored, columns[0] + columns[-1] + shift - (width - 1), axis=1)
            score = (turned & image).sum() / max((turned | image).sum(), 1)
            if score > best:
                best, tilt = score, float(degrees)
    if abs(tilt) < MIN_TILT:
        return mask, 0.0
    height, width = mask.shape
    turn = cv2.getRotationMatrix2D((left + across / 2, top + down / 2), tilt, 1.0)
    grow = int(np.ceil(0.5 * max(height, width) * np.sin(np.radians(abs(tilt))))) + 1
    turn[:, 2] += grow
    return cv2.warpAffine(mask.astype(np.uint8), turn, (width + 2 * grow, height + 2 * grow),
                          flags=cv2.INTER_NEAREST) > 0, tilt


def pieces_of(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """The mask less its specks (blobs under SPECK of its area: a cut-out's leftovers, which would
    stretch the frame past the garment), and how many pieces of PIECE of its area or more it has."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    areas = stats[:, cv2.CC_STAT_AREA].astype(float)
    areas[0] = 0.0
    shares = areas / max(areas.sum(), 1.0)
    pieces = int((shares >= PIECE).sum())
    if (shares[1:] >= SPECK).all():  # nothing to drop: spare the per-pixel lookup
        return mask.astype(bool), pieces
    return (shares >= SPECK)[labels], pieces


@dataclass(frozen=True)
class Fitted:
    pattern: Pattern
    x: np.ndarray
    iou: float
    openings: Openings = field(default_factory=lambda: Openings(0.0, 0.0))  # the frame's: evidence for the priors


def fit_pattern(frame: Frame, pattern: Pattern, starts: np.ndarray, free: list[int] | None = None,
                polish: int = 2, evals: int = MAX_EVALS,
                prior: Callable[[Fitted], float] | None = None) -> Fitted:
    """Score every start (a coarse grid over the parameters that decide the shape, around the
    measured ones), then refine the best `polish` of them by Powell's method over the `free`
    parameters (all by default; the others keep each start's values). With a `prior` (IoU-units
    of implausibility) the search maximises the overlap less it: the most plausible fit, not a
    better-overlapping one the prior would then refuse."""
    low, high = np.array(pattern.bounds).T
    # Starts just inside the bounds, and first steps a tenth of each range: from a bound, the
    # clipped loss is flat outwards and Powell's line search would never step back in.
    free = np.arange(len(low)) if free is None else np.asarray(free)
    free_low, free_high = low[free], high[free]
    inset = INSET * (free_high - free_low)
    starts = np.clip(np.atleast_2d(starts), low, high)
    starts[:, free] = np.clip(starts[:, free], free_low + inset, free_high - inset)
    steps = np.diag(STEP * (free_high - free_low))

    def full(base: np.ndarray, y: np.ndarray) -> np.ndarray:
        """`base` with its free parameters set to `y`, clipped to their bounds here (scipy's
        bounded Powell can end worse than it began)."""
        x = base.copy()
        x[free] = np.minimum(np.maximum(y, free_low), free_high)
        return x

    def loss(y: np.ndarray, base: np.ndarray) -> float:
        x = full(base, y)
        cost = prior(Fitted(pattern, x, 0.0, frame.openings)) if prior else 0.0
        return 1.0 - frame.iou(pattern.pieces(x)) + cost

    scores = np.array([loss(x[free], x) for x in starts])
    best: Fitted | None = None
    best_loss = np.inf
    for k in np.argsort(scores)[:polish]:
        result = minimize(loss, starts[k][free], args=(starts[k],), method="Powell",
                          options={"maxfev": evals, "xtol": 1e-3, "ftol": 1e-4, "direc": steps})
        x = full(starts[k], result.x)
        candidate = Fitted(pattern, x, frame.iou(pattern.pieces(x)), frame.openings)
        if best is None or result.fun < best_loss:
            best, best_loss = candidate, float(result.fun)
    assert best is not None
    return best
