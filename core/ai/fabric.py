"""The garment's back texture: from a back photo registered to the front's outline, or, without
one, from the garment's own fabric with the front's prints, logos, buttons and seams removed.

A back seen from behind is the mirror of the view from the front, so a back photo is flipped
left-right and its outline's box laid on the front's: then the back's texel at a point of the
front's box is the back of the garment at that point. Without a back photo the back is never the
front mirrored (prints would read backwards, buttons and collars would show on the back): the
fabric is learned from the front's print-free regions. Details are edges (local contrast well
above the fabric's own, so a knit or denim weave is not a detail) and what they enclose (a print's
inside); on a plain fabric they are inpainted from the clean regions around them, which keeps the
fabric's colours and its shading, and the fabric's fine weave is tiled over that from the largest
clean patch. A fabric that is all pattern (stripes, florals: details everywhere, no clean region)
is tiled from a patch of itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

from core.ai.segment import Cutout, fill_background

WORK = 128  # the fabric is analysed at this size (the garment's box, squared)
DETAIL_MIN = 7.0  # local contrast (OpenCV Lab units) that marks an edge of a print on a plain fabric
DETAIL_TYPICAL = 3.0  # ...or this many times the fabric's own typical contrast (knits, denim)
ENCLOSE_PX = 9  # edges this close (at WORK) are one detail: a print's letters, a logo's parts
# A fabric is plain (one colour, or blocks of colour, its prints to remove) when a print-free disc
# of MIN_CLEAN_PX (at WORK) is left, details cover at most PATTERN_SHARE of the garment and at
# least UNIFORM of the print-free pixels lie within UNIFORM_DE of their median colour; otherwise
# it is a pattern (stripes, checks, florals, camouflage), kept as a pattern.
MIN_CLEAN_PX = 4.0
PATTERN_SHARE = 0.65
UNIFORM, UNIFORM_DE = 0.5, 12.0


@dataclass(frozen=True)
class BackTexture:
    rgb: np.ndarray  # HxWx3 uint8, laid out as the front's texture (the front's box)
    stats: dict  # how it was made, for the job's record


def back_texture(front_rgb: np.ndarray, front_mask: np.ndarray, back: Cutout | None) -> BackTexture:
    """The back's texture in the front texture's layout (`front_rgb`, its garment `front_mask`)."""
    if back is not None:
        return register_back(back, front_mask)
    rgb, stats = fabric(front_rgb, front_mask)
    return BackTexture(rgb, {"source": "fabric", **stats})


def register_back(back: Cutout, front_mask: np.ndarray) -> BackTexture:
    """A back photo's cut-out, mirrored and its box stretched onto the front's box (which the front
    texture fills), every pixel outside its outline taking the nearest garment colour."""
    h, w = front_mask.shape
    mask = back.mask[:, ::-1]
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    rgb = cv2.resize(np.ascontiguousarray(back.rgb[:, ::-1][y0:y1, x0:x1]), (w, h), interpolation=cv2.INTER_AREA)
    box = cv2.resize(mask[y0:y1, x0:x1].astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    iou = float((box & front_mask).sum() / max(1, (box | front_mask).sum()))
    return BackTexture(fill_background(rgb, box), {"source": "photo", "outline_iou": round(iou, 3)})


def fabric(rgb: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, dict]:
    """The garment's fabric over its whole box, without the front's details (see the module's note)."""
    h, w = mask.shape
    small = cv2.resize(rgb, (WORK, WORK), interpolation=cv2.INTER_AREA)
    inside = cv2.resize(mask.astype(np.uint8), (WORK, WORK), interpolation=cv2.INTER_NEAREST) > 0
    detail = details(small, inside)
    clean = (inside & ~detail).astype(np.uint8)
    dist = cv2.distanceTransform(clean, cv2.DIST_L2, 3)
    share = float(detail.sum() / max(1, inside.sum()))
    scale = w / WORK, h / WORK
    plain = share <= PATTERN_SHARE and dist.max() >= MIN_CLEAN_PX and _uniform(small, clean > 0) >= UNIFORM
    if plain:  # its details filled in from the fabric round them, its weave tiled over them
        low = cv2.resize(_fill(small.astype(np.float32), clean > 0), (w, h), interpolation=cv2.INTER_LINEAR)
        patch = _patch(rgb, dist, scale).astype(np.float32)
        weave = patch - cv2.GaussianBlur(patch, (0, 0), 1.5 * max(scale))
        out = low + _tile(weave, h, w)
        kind = "plain"
    else:  # all pattern: tiled from the largest patch inside the outline
        dist = cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, 3)
        out = _tile(_patch(rgb, dist, scale).astype(np.float32), h, w)
        kind = "pattern"
    return np.clip(out, 0, 255).astype(np.uint8), {"fabric": kind, "detail_share": round(share, 3)}


def details(rgb: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Prints, logos, buttons, plackets and seams: the garment's edges that stand out from the
    fabric's own texture, joined where they lie close and filled where they enclose a region."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    contrast = np.linalg.norm(lab - cv2.GaussianBlur(lab, (0, 0), 1.0), axis=2)
    core = cv2.erode(inside.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0  # not the outline itself
    if not core.any():
        return np.zeros_like(inside)
    threshold = max(DETAIL_MIN, DETAIL_TYPICAL * float(np.median(contrast[core])))
    edges = ((contrast > threshold) & core).astype(np.uint8)
    joined = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                                                                (ENCLOSE_PX, ENCLOSE_PX)))
    filled = ndimage.binary_fill_holes(joined > 0)
    return cv2.dilate(filled.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & inside


def _uniform(rgb: np.ndarray, clean: np.ndarray) -> float:
    """The share of the clean pixels within UNIFORM_DE of their median colour."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)[clean]
    return float(np.mean(np.linalg.norm(lab - np.median(lab, axis=0), axis=1) < UNIFORM_DE)) if len(lab) else 0.0


def _fill(image: np.ndarray, known: np.ndarray, levels: int = 6) -> np.ndarray:
    """`image` with its unknown pixels filled from the known ones around them: the known pixels'
    Gaussian-weighted mean (normalised convolution), from the finest scale that reaches a pixel to
    the coarsest (each scale a halving of the image, so the wide ones cost little): small details
    take their surroundings' colour, large prints the fabric's, with no streaks."""
    h, w = known.shape
    out = image.copy()
    todo = ~known
    weight = known.astype(np.float32)
    for level in range(levels):
        if not todo.any():
            break
        size = (max(1, w >> level), max(1, h >> level))
        den = cv2.GaussianBlur(cv2.resize(weight, size, interpolation=cv2.INTER_AREA), (0, 0), 1.5)
        num = cv2.GaussianBlur(cv2.resize(image * weight[..., None], size, interpolation=cv2.INTER_AREA), (0, 0), 1.5)
        den = cv2.resize(den, (w, h), interpolation=cv2.INTER_LINEAR)
        num = cv2.resize(num, (w, h), interpolation=cv2.INTER_LINEAR)
        reached = todo & (den > 0.2) if level < levels - 1 else todo
        out[reached] = num[reached] / np.maximum(den[reached], 1e-6)[:, None]
        todo &= ~reached
    return cv2.GaussianBlur(out, (0, 0), 1.0)


def _patch(rgb: np.ndarray, dist: np.ndarray, scale: tuple[float, float]) -> np.ndarray:
    """The square (full size) inscribed in the largest disc of `dist` (at WORK), at most a third of
    the box's side."""
    cy, cx = np.unravel_index(int(np.argmax(dist)), dist.shape)
    h, w = rgb.shape[:2]
    half = max(2, int(min(dist[cy, cx] * 0.7 * min(scale), min(h, w) / 6)))
    y, x = int((cy + 0.5) * scale[1]), int((cx + 0.5) * scale[0])
    y, x = min(max(y, half), h - half), min(max(x, half), w - half)
    return rgb[y - half:y + half, x - half:x + half]


def _tile(patch: np.ndarray, h: int, w: int) -> np.ndarray:
    """The patch repeated over h×w (never mirrored: a print in a pattern reads the right way round),
    neighbouring copies overlapping by a quarter and cross-faded, so that no seam shows. The sum of
    the faded copies repeats with the step, so one step's cell is folded together and tiled."""
    side = patch.shape[0]
    overlap = max(1, side // 4)
    step = side - overlap
    ramp = np.minimum(1.0, (np.arange(side) + 0.5) / overlap)
    window = np.minimum(ramp, ramp[::-1]).astype(np.float32)
    weight = np.outer(window, window)[..., None]

    def fold(a: np.ndarray) -> np.ndarray:  # rows summed modulo the step, then columns
        for axis in (0, 1):
            a = np.moveaxis(a, axis, 0)
            rows = a[:step].copy()
            rows[:overlap] += a[step:]
            a = np.moveaxis(rows, 0, axis)
        return a

    return np.tile(fold(patch * weight) / fold(weight), (-(-h // step), -(-w // step), 1))[:h, :w]
