"""Parse a garment's front silhouette: fit each category's pattern (core/garment/registry.py) to
the mask, take the one that explains it best under its proportion priors and a price per
parameter (a simpler pattern that explains it as well is the likelier), and read off the sleeve
or leg type, the landmarks and the parts. The bodice is fitted twice, without sleeves and with
them (staged: rival torsos first, then sleeves on each, then both by turns); sleeves must gain
more than their freedom alone gains on a sleeveless shape.

The parse is small (category, pattern parameters, confidence) and is stored with the garment, so
that a re-fit labels the mesh's vertices from it (`part_labels`) without fitting again."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import cv2
import numpy as np
from scipy import ndimage

from core.errors import InputError
from core.garment.fitting import SIDE, Fitted, Frame, fit_pattern, pieces_of, upright
from core.garment.patterns import BODICE, LEGS, SHAPES, SKIRT
from core.garment.registry import AUTO_CATEGORIES, PARTS, REGISTRY, sleeves_prior

UNEXPLAINED_IOU = 0.65  # below this, no pattern explains the shape (a ring: 0.4, a star: 0.6): not one garment
COMPLEXITY = 0.0015  # IoU a pattern must gain per parameter it adds to be believed (Occam: a bodice over a skirt)
SLEEVE_GAIN = 0.01  # and sleeves over none: their freedom alone gains this much on sleeveless shapes
LABEL_SIDE = 128  # raster on which vertices look up their part
SLEEVE_PARAMS = ("sleeve", "angle", "cuff", "angle_r")
# The sleeves with what they hang from: the armhole's depth, the shoulder point.
SLEEVE_BLOCK = [BODICE.index(p) for p in ("armhole", "shoulder", "shoulder_y", *SLEEVE_PARAMS)]
# The sleeves' first guesses (length, angle, cuff, the other's angle), from capped to long, hanging to raised.
SLEEVE_GRID = np.array([(s, a, 0.65, a) for s, a in itertools.product((0.1, 0.2, 0.3, 0.45, 0.65, 0.85, 1.05),
                                                                      (0.05, 0.3, 0.6, 0.9, 1.2, 1.5))])
# Hanging, their first guesses also place the shoulder point and the sleeve's width (the armhole's
# length); the angles are from just off straight down (the search cannot step back from a bound).
HANGING_PARAMS = ("hang", "shoulder", "armhole", *SLEEVE_PARAMS)
HANGING_GRID = np.array([(1.0, shoulder, armhole, s, a, c, a) for shoulder, armhole, s, a, c in itertools.product(
    (0.92, 1.0), (0.65, 1.0), (0.3, 0.6, 0.9, 1.05), (0.04, 0.15), (0.35, 0.7))])


@dataclass(frozen=True)
class GarmentParse:
    category: str
    shape: str  # the pattern family: bodice, legs, skirt
    kind: str  # sleeves (none, cap, short, three_quarter, long) or legs (none, short, long)
    params: dict[str, float]
    iou: float
    confidence: float  # the chosen category's share of the evidence (0-1)
    scores: dict[str, float]  # per category
    tilt: float = 0.0  # degrees the silhouette was turned (counter-clockwise) to stand upright

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
    c = round(frame.centre)
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
    """The bodice without sleeves, then with them, in stages, each a small search. With sleeves:
    the torso first, as a sleeveless bodice fitted to the cloth sleeves cannot be (within the
    width of the body below them; or only the run through the centre line, which leaves out
    sleeves apart from the body), then the sleeves over a grid of length, angle and cuff with each
    torso held (and hanging from the shoulders down the sides, over the sleeveless one's), the best
    refined with the armhole and shoulder, then everything together."""
    centre_rows = np.flatnonzero(run > 0)
    hem_y = (centre_rows[-1] + 1) / SIDE if len(centre_rows) else 1.0
    # Below the sleeves, the cloth through the centre line is the torso (sleeves laid along it are in it too).
    torso = float(np.median(run[_row(0.55): _row(0.85) + 1])) or 0.2
    hem = float(run[max(0, _row(hem_y) - 2)]) / torso or 1.0
    drop = centre_rows[0] / SIDE if len(centre_rows) else 0.05  # the cloth at the centre starts below the neckline
    torso_free = [i for i, p in enumerate(BODICE.params) if p.name not in (*SLEEVE_PARAMS, "hang")]
    guesses = itertools.product((0.85, 1.0), (0.6, 1.0, 1.5), (0.6, 0.95), (0.45, 0.8))
    starts = np.array([BODICE.vector(chest=torso * k, armhole=armhole, shoulder=shoulder, shoulder_y=0.05, neck=neck,
                                     neck_y=0.0, neck_drop=drop, waist=1.0, waist_at=0.5, hem=hem / k, hem_y=hem_y,
                                     sleeve=0.0, angle=1.0, cuff=0.7, angle_r=1.0, hem_rise=0.0, hang=0.0)
                       for k, armhole, shoulder, neck in guesses])
    none = fit_pattern(frame, BODICE, starts, free=torso_free, polish=2, evals=350)
    cols = np.abs(np.arange(frame.mask.shape[1]) - frame.centre)
    within = frame.only(frame.mask & (cols <= torso * SIDE * 1.05 + 1)[None, :])
    bodies = [fit_pattern(within, BODICE, starts, free=torso_free, polish=1, evals=300).x,
              fit_pattern(frame.only(frame.central_run()), BODICE, starts, free=torso_free, polish=1, evals=300).x]
    laid_over = bodies[0].copy()  # sleeves laid over the body: a narrower torso under them
    laid_over[BODICE.index("chest")] *= 0.8
    bodies += [laid_over, none.x]  # and the sleeveless fit's own torso: sleeves must only add to it
    # Each torso's best sleeves, refined with its armhole and shoulder: the torsos are rival
    # explanations (sleeves apart from the body, or laid over it), and the first grid's scores
    # favour the widest, which covers the sleeves itself.
    sleeve = [BODICE.index(p) for p in SLEEVE_PARAMS]
    staged = []
    for base in bodies:
        grid = np.repeat(base[None, :], len(SLEEVE_GRID), axis=0)
        grid[:, BODICE.index("shoulder")] = np.maximum(grid[:, BODICE.index("shoulder")], 0.9)
        grid[:, sleeve] = SLEEVE_GRID
        staged.append(fit_pattern(frame, BODICE, grid, free=SLEEVE_BLOCK, polish=1, evals=250, prior=sleeves_prior))
    # Sleeves hanging from the shoulder points flush down the sides (no gap shows between them
    # and the body), over the sleeveless torso: its hem, hidden under them, as wide as the cloth
    # through the centre line there, and the shoulder point at the body's side.
    grid = np.repeat(none.x[None, :], len(HANGING_GRID), axis=0)
    grid[:, [BODICE.index(p) for p in HANGING_PARAMS]] = HANGING_GRID
    grid[:, BODICE.index("hem")] = hem * torso / (none.x[BODICE.index("chest")] * none.x[BODICE.index("waist")])
    staged.append(fit_pattern(frame, BODICE, grid, free=[*SLEEVE_BLOCK, BODICE.index("hem")], polish=1, evals=250,
                              prior=sleeves_prior))
    sleeved = max(staged, key=lambda f: f.iou - sleeves_prior(f))
    # Then the torso and the sleeves by turns: each a small search, which converges where one
    # over every parameter at once would not in as many evaluations.
    for free in (torso_free, SLEEVE_BLOCK):
        sleeved = fit_pattern(frame, BODICE, sleeved.x, free=free, polish=1, evals=200, prior=sleeves_prior)
    return none, sleeved


def _legs(frame: Frame, outer: np.ndarray) -> Fitted:
    waist = outer[0]
    hip = outer[_row(0.2)] / max(waist, 1e-3)
    opening = 1.0 - frame.openings.centre_gap  # where the photo shows the legs part
    crotches = (0.3, 0.5, 0.7, 0.85, opening)

    def together(crotch: float) -> float:  # the parting's share of the inseam below `crotch`
        return float(np.clip((opening - crotch) / max(1 - crotch, 1e-3), 0, 0.95))

    # the legs apart from the crotch down, or laid together down to where the photo shows them part
    starts = [LEGS.vector(waist_x=waist, hip=hip, hip_y=0.2, crotch_y=crotch, hem_out=float(outer[_row(0.8):].max()),
                          hem_in=inner, hem_out_y=1.0, hem_in_y=1.0, fork=fork, parting=parting)
              for crotch, inner in itertools.product(crotches, (0.0, 0.05, 0.3))
              for fork, parting in ((0.7, 0.0), (0.0, together(crotch))) if parting > 0 or fork > 0]
    return fit_pattern(frame, LEGS, np.array(starts), polish=1, evals=400, prior=REGISTRY["bottom"].penalty)


def _skirt(frame: Frame, outer: np.ndarray) -> Fitted:
    waist = outer[0]
    starts = [SKIRT.vector(waist_x=waist, hip=outer[_row(hip_y)] / max(waist, 1e-3), hip_y=hip_y,
                           hem=outer[_row(0.97)] / max(outer[_row(hip_y)], 1e-3), hem_rise=rise)
              for hip_y, rise in itertools.product((0.15, 0.25, 0.4), (0.0, 0.1))]
    return fit_pattern(frame, SKIRT, np.array(starts), polish=1, evals=300, prior=REGISTRY["bottom"].penalty)


def _free(key: str) -> int:
    """How many parameters a fit was free to set, but for the sleeves and their pose (which
    SLEEVE_GAIN prices) and the legs' pose (laid together down to where they part: the prior
    prices it)."""
    shape = key.removesuffix("_none")
    posed = {"bodice": len(SLEEVE_PARAMS) + 1, "legs": 1}
    return len(SHAPES[shape].params) - posed.get(shape, 0)


def parse_mask(mask: np.ndarray, category: str | None = None) -> GarmentParse:
    """Fit every pattern and choose; with `category` given, only that category's patterns."""
    if category is not None and category not in REGISTRY:
        raise InputError(f"Unknown category {category!r}: one of {', '.join(REGISTRY)}.")
    if mask.sum() < 64:
        raise InputError("The garment's outline is too small to read.")
    mask, tilt = upright(mask)
    mask, pieces = pieces_of(mask)
    if pieces > 1:  # one garment is one piece of cloth
        raise InputError("This shows more than one piece (the outline falls apart in separate shapes): "
                         "upload a photo of a single garment, laid flat or on a hanger.")
    frame = Frame.of(mask)
    outer, run = _profile(frame)
    entries = {name: entry for name, entry in REGISTRY.items()
               if name == category or (category is None and name in AUTO_CATEGORIES)}
    shapes = {shape for entry in entries.values() for shape in entry.shapes}
    fits: dict[str, Fitted] = {}
    if "bodice" in shapes:
        fits["bodice_none"], fits["bodice"] = _bodice(frame, outer, run)
    if "legs" in shapes:
        fits["legs"] = _legs(frame, outer)
    if "skirt" in shapes:
        fits["skirt"] = _skirt(frame, outer)
    candidates = []
    for name, entry in entries.items():
        for shape in entry.shapes:
            for key in ((shape, "bodice_none") if shape == "bodice" else (shape,)):
                fitted = fits[key]
                sleeves = SLEEVE_GAIN if key == "bodice" else 0.0
                score = fitted.iou - entry.penalty(fitted) - COMPLEXITY * _free(key) - sleeves
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
                        scores={k: round(v, 4) for k, v in per_category.items()}, tilt=tilt)


def part_labels(parse: GarmentParse, uv: np.ndarray) -> np.ndarray:
    """Each point's part (index into PARTS) from its place in the parse frame (core/garment/frames.py);
    points outside every part take the nearest part."""
    parts = SHAPES[parse.shape].parts(parse.x)
    width = 2 * LABEL_SIDE
    label = np.full((LABEL_SIDE + 2, width), 255, np.uint8)
    for name, poly in parts.items():
        pix = np.stack([poly[:, 0] * LABEL_SIDE + width / 2, poly[:, 1] * LABEL_SIDE + 1], axis=1)
        cv2.fillPoly(label, [np.round(pix * 16).astype(np.int32)], PARTS.index(name), shift=4)
    empty = label == 255
    if empty.all():
        return np.zeros(len(uv), np.int8)
    _, (ii, jj) = ndimage.distance_transform_edt(empty, return_indices=True)
    nearest = label[ii, jj]
    cols = np.clip(np.round(uv[:, 0] * LABEL_SIDE + width / 2).astype(int), 0, width - 1)
    rows = np.clip(np.round(uv[:, 1] * LABEL_SIDE + 1).astype(int), 0, LABEL_SIDE + 1)
    return nearest[rows, cols].astype(np.int8)


def stored_parse(stats: dict | None, category: str | None) -> GarmentParse | None:
    """The parse kept with a garment (its record's stats), when it is of the garment's category;
    None for a garment stored before parses were (the fit parses it then)."""
    data = (stats or {}).get("parse")
    if not isinstance(data, dict) or data.get("category") != category:
        return None
    try:
        parse = GarmentParse.from_json(data)
        _ = parse.x  # every parameter of its pattern is there
    except (KeyError, TypeError, ValueError):
        return None
    return parse
