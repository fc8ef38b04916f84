"""Parse a garment's front silhouette: fit each category's pattern (core/garment/registry.py) to
the mask, take the one that explains it best under its proportion priors, and read off the
sleeve or leg type, the landmarks and the parts.

The parse is small (category, pattern parameters, confidence) and is stored with the garment, so
that a re-fit labels the mesh's vertices from it (`part_labels`) without fitting again."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage

from core.errors import InputError
from core.garment.fitting import SIDE, Fitted, Frame, fit_pattern
from core.garment.patterns import BODICE, LEGS, SHAPES, SKIRT
from core.garment.registry import AUTO_CATEGORIES, PARTS, REGISTRY

UNEXPLAINED_IOU = 0.7  # below this, no pattern explains the shape: not one garment
SLEEVE_GAIN = 0.01  # the least IoU sleeves must add to the sleeveless fit to be believed
LABEL_SIDE = 128  # raster on which vertices look up their part


@dataclass(frozen=True)
class GarmentParse:
    category: str
    shape: str  # the pattern family: bodice, legs, skirt
    kind: str  # sleeves (none, cap, short, three_quarter, long) or legs (none, short, long)
    params: dict[str, float]
    iou: float
    confidence: float  # the chosen category's share of the evidence (0-1)
    scores: dict[str, float]  # per category

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> GarmentParse:
        return cls(**data)

    @property
    def x(self) -> np.ndarray:
        pattern = SHAPES[self.shape]
        return np.array([self.params[p.name] for p in pattern.params])

    def landmarks(self) -> dict[str, list[float]]:
        """The outline's landmarks in the parse frame (right side; x mirrors for the left)."""
        return {k: [round(float(v[0]), 4), round(float(v[1]), 4)] for k, v in SHAPES[self.shape].points(self.x).items()}


def _profile(frame: Frame) -> tuple[np.ndarray, np.ndarray]:
    """Per row of the silhouette: the outline's half-width and the half-width of the run through
    the centre line (in heights); measured once, to start the search near the answer."""
    rows = frame.mask[1: SIDE + 1]
    c = int(round(frame.centre))
    have = rows.any(axis=1)
    first = rows.argmax(axis=1)
    last = rows.shape[1] - 1 - rows[:, ::-1].argmax(axis=1)
    outer = np.where(have, np.maximum(last - frame.centre, frame.centre - first), 0) / SIDE
    gap_right, gap_left = ~rows[:, c:], ~rows[:, c::-1]
    right = np.where(gap_right.any(axis=1), gap_right.argmax(axis=1), rows.shape[1] - c)
    left = np.where(gap_left.any(axis=1), gap_left.argmax(axis=1), c)
    run = np.where(rows[:, c], (right + left) / 2, 0) / SIDE
    return outer, run


def _row(y: float) -> int:
    return int(np.clip(y * SIDE, 0, SIDE - 1))


def _bodice(frame: Frame, outer: np.ndarray, run: np.ndarray) -> tuple[Fitted, Fitted]:
    """The bodice without sleeves, then with them. The sleeved one in stages, each a small search:
    the torso alone (the cloth through the centre line, row by row), then a grid over the sleeve's
    length, angle and cuff with that torso held (narrowed, too, for sleeves laid along it), then
    everything refined together against the whole silhouette."""
    centre_rows = np.flatnonzero(run > 0)
    hem_y = (centre_rows[-1] + 1) / SIDE if len(centre_rows) else 1.0
    torso = float(np.median(run[_row(0.35): _row(0.6) + 1])) or 0.2
    hem_x = float(run[max(0, _row(hem_y) - 2)]) or torso
    starts = np.array([[outer[0] * 0.6, 0.01, torso * k, 0.04, torso * k, ay, torso * k, 0.5, hem_x * k, hem_y,
                        0.0, 1.0, 0.1] for k, ay in itertools.product((0.7, 1.0), (0.2, 0.3, 0.4))])
    fixed = {10: 0.0, 11: 1.0, 12: 0.1}
    none = fit_pattern(frame, BODICE, starts, fixed=fixed, polish=2)
    body = fit_pattern(frame.only(frame.central_run()), BODICE, starts, fixed=fixed, polish=1)
    grid = []
    for base, scale in ((body.x, 1.0), (body.x, 0.75), (none.x, 1.0)):
        for sleeve, angle, cuff in itertools.product((0.1, 0.2, 0.3, 0.45, 0.65, 0.85, 1.05),
                                                     (0.05, 0.3, 0.6, 0.9, 1.2, 1.5), (0.1, 0.18, 0.28)):
            x = base.copy()
            x[[2, 4, 6, 8]] *= scale
            x[10:13] = sleeve, angle, cuff
            grid.append(x)
    sleeved = fit_pattern(frame, BODICE, np.array(grid), polish=2)
    return none, sleeved


def _legs(frame: Frame, outer: np.ndarray) -> Fitted:
    starts = [[outer[0], outer[_row(0.2)], 0.2, crotch, outer[_row(0.97)], inner]
              for crotch, inner in itertools.product((0.2, 0.35, 0.5, 0.7), (0.02, 0.06))]
    return fit_pattern(frame, LEGS, np.array(starts), polish=2)


def _skirt(frame: Frame, outer: np.ndarray) -> Fitted:
    return fit_pattern(frame, SKIRT, np.array([[outer[0], outer[_row(0.2)], 0.2, outer[_row(0.97)]]]), polish=1)


def parse_mask(mask: np.ndarray, category: str | None = None) -> GarmentParse:
    """Fit every pattern and choose; with `category` given, only that category's patterns."""
    if mask.sum() < 64:
        raise InputError("The garment's outline is too small to read.")
    frame = Frame.of(mask)
    outer, run = _profile(frame)
    fits: dict[str, Fitted] = {}
    none, sleeved = _bodice(frame, outer, run)
    fits["bodice_none"], fits["bodice"] = none, sleeved
    fits["legs"], fits["skirt"] = _legs(frame, outer), _skirt(frame, outer)
    candidates = []
    for name, entry in REGISTRY.items():
        if (category or "auto") != name and (category is not None or name not in AUTO_CATEGORIES):
            continue
        for shape in entry.shapes:
            for key in ((shape, "bodice_none") if shape == "bodice" else (shape,)):
                fitted = fits[key]
                # a sleeve must explain cloth the torso cannot: its gain is counted net of this
                extra = SLEEVE_GAIN if key == "bodice" else 0.0
                score = fitted.iou - entry.penalty(fitted) - extra
                candidates.append((score, name, fitted))
    candidates.sort(key=lambda c: -c[0])
    score, name, fitted = candidates[0]
    if category is None and fitted.iou < UNEXPLAINED_IOU:
        raise InputError("This does not look like one garment (no garment's pattern matches its outline): "
                         "upload a photo of a single top, bottom, dress or coat, laid flat or on a hanger.")
    per_category: dict[str, float] = {}
    for s, n, _ in candidates:
        per_category.setdefault(n, s)
    # Evidence: each category's best score, sharpened (a 0.02 lead in IoU is a clear call).
    values = np.array(list(per_category.values()))
    weights = np.exp((values - values.max()) / 0.01)
    confidence = float(weights[0] / weights.sum())
    entry = REGISTRY[name]
    return GarmentParse(category=name, shape=fitted.pattern.name, kind=entry.kind(fitted),
                        params={k: round(v, 5) for k, v in fitted.pattern.named(fitted.x).items()},
                        iou=round(fitted.iou, 4), confidence=round(confidence, 3),
                        scores={k: round(v, 4) for k, v in per_category.items()})


def part_labels(parse: GarmentParse, xy: np.ndarray, height: float) -> np.ndarray:
    """Each point's part (index into PARTS) from its front position: xy in the garment frame
    (metres, origin at the top centre, y up), `height` the silhouette's height (metres). Points
    outside every part take the nearest part."""
    parts = SHAPES[parse.shape].parts(parse.x)
    # the parse frame at LABEL_SIDE: x across in heights, y down in heights
    u = xy[:, 0] / height
    v = -xy[:, 1] / height
    width = 2 * LABEL_SIDE
    label = np.full((LABEL_SIDE + 2, width), 255, np.uint8)
    import cv2  # noqa: PLC0415 - only the labelling rasterises at this size

    for name, poly in parts.items():
        pix = np.stack([poly[:, 0] * LABEL_SIDE + width / 2, poly[:, 1] * LABEL_SIDE + 1], axis=1)
        cv2.fillPoly(label, [np.round(pix * 16).astype(np.int32)], PARTS.index(name), shift=4)
    empty = label == 255
    if empty.all():
        return np.zeros(len(xy), np.int8)
    _, (ii, jj) = ndimage.distance_transform_edt(empty, return_indices=True)
    nearest = label[ii, jj]
    cols = np.clip(np.round(u * LABEL_SIDE + width / 2).astype(int), 0, width - 1)
    rows = np.clip(np.round(v * LABEL_SIDE + 1).astype(int), 0, LABEL_SIDE + 1)
    return nearest[rows, cols].astype(np.int8)
