"""One entry per category: its patterns, proportion priors, layer order, anchor and openings.
Adding a category is one entry here and its tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.garment.fitting import Fitted
from core.garment.patterns import BODICE, LEGS

PARTS = ("torso", "skirt", "sleeve_l", "sleeve_r", "seat", "leg_l", "leg_r")
PRIOR_WEIGHT = 0.5  # IoU lost per unit of squared log-ratio outside a prior's range
LEG_GAP = 0.01  # the least gap (in heights) between two trouser legs at their hems
# The rise (waistband to crotch) of trousers and shorts over their length: a quarter of trousers'
# (~28 cm of 100-110), most of shorts' (of 35-50).
RISE = (0.2, 0.8)


def _outside(value: float, low: float, high: float) -> float:
    """Squared log-distance of a ratio from a range (0 inside it)."""
    value = max(value, 1e-6)
    return float(max(np.log(low / value), 0.0, np.log(value / high)) ** 2)


def bodice_ratios(fitted: Fitted) -> dict[str, float]:
    """Scale-free proportions of a fitted bodice, over the flat chest's width: its length (neck
    point to hem) and its sleeve's underarm seam (armpit to cuff), the sleeve's least ambiguous
    length: the shoulder point's place on a flat silhouette is not."""
    q = BODICE.points(fitted.x)
    chest = 2 * q["armpit"][0]
    sleeved = fitted.x[BODICE.index("sleeve")] > 0
    underarm = float(np.linalg.norm(q["cuff_bottom"] - q["armpit"])) if sleeved else 0.0
    return {"length": (q["hem"][1] - q["neck"][1]) / chest, "underarm": underarm / chest}


def sleeve_kind(fitted: Fitted) -> str:
    """By the underarm seam against the chest's flat width (size M, ~50 cm: a cap sleeve has
    next to none, a short one ~10 cm, three-quarter ~30, long ~45): cut between them."""
    if fitted.pattern is not BODICE or fitted.x[BODICE.index("sleeve")] <= 0:
        return "none"
    ratio = bodice_ratios(fitted)["underarm"]
    for kind, below in (("cap", 0.11), ("short", 0.35), ("three_quarter", 0.73)):
        if ratio < below:
            return kind
    return "long"


def leg_kind(fitted: Fitted) -> str:
    """Trousers by their inseam against the whole length: shorts' is under half."""
    if fitted.pattern is not LEGS:
        return "none"  # a skirt
    q = LEGS.points(fitted.x)
    inseam = q["hem_in"][1] - q["crotch"][1]
    return "long" if inseam >= 0.5 else "short"


@dataclass(frozen=True)
class Category:
    name: str
    shapes: tuple[str, ...]  # pattern families that make this category
    length_m: float  # a size-M garment's length (its scale when a photo has no other)
    half_depth_m: float  # its torso's half-depth, front to back
    layer: int  # dressing order: lower goes on first
    anchor: str  # the body landmark its top edge hangs from
    openings: tuple[str, ...]
    length_range: tuple[float, float]  # length over chest width (bodice) or waist width (bottoms)
    kind: Callable[[Fitted], str]

    def penalty(self, fitted: Fitted) -> float:
        """IoU-units of implausibility: a shape outside this category's proportions."""
        if fitted.pattern is BODICE:
            return PRIOR_WEIGHT * _outside(bodice_ratios(fitted)["length"], *self.length_range)
        p = fitted.pattern.named(fitted.x)
        waist = 2 * p["waist_x"]
        cost = _outside(1.0 / waist, *self.length_range)
        if fitted.pattern is LEGS:
            cost += _outside(p["crotch_y"], *RISE)
            if LEGS.points(fitted.x)["hem_in"][0] < LEG_GAP:
                cost += 1.0  # no gap between the legs: not a pair of legs
        return PRIOR_WEIGHT * cost


REGISTRY: dict[str, Category] = {c.name: c for c in (
    Category("top", ("bodice",), 0.70, 0.10, 1, "neck", ("neck", "hem", "sleeves"), (0.5, 2.7), sleeve_kind),
    Category("outer", ("bodice",), 0.78, 0.12, 2, "neck", ("neck", "hem", "sleeves"), (0.5, 3.0), sleeve_kind),
    Category("dress", ("bodice",), 1.05, 0.10, 0, "neck", ("neck", "hem", "sleeves"), (2.7, 6.0), sleeve_kind),
    Category("bottom", ("legs", "skirt"), 1.00, 0.08, 0, "waist", ("waist", "legs"), (0.75, 3.6), leg_kind),
)}
AUTO_CATEGORIES = ("top", "bottom", "dress")  # outerwear looks like a top: the user says so
