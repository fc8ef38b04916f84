"""One entry per category: its patterns, proportion priors, layer order, anchor and openings.
Adding a category is one entry here and its tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from core.garment.fitting import Fitted
from core.garment.patterns import BODICE, LEGS

PARTS = ("torso", "skirt", "sleeve_l", "sleeve_r", "seat", "leg_l", "leg_r")
PRIOR_WEIGHT = 0.5
LEG_GAP = 0.01  # the least gap (in heights) between two trouser legs at their hems  # IoU lost per unit of squared log-ratio outside a prior's range


def _outside(value: float, low: float, high: float) -> float:
    """Squared log-distance of a ratio from a range (0 inside it)."""
    value = max(value, 1e-6)
    return float(max(np.log(low / value), 0.0, np.log(value / high)) ** 2)


def bodice_ratios(fitted: Fitted) -> dict[str, float]:
    """Scale-free proportions of a fitted bodice: length over chest width, sleeve length over
    chest width, cuff over armhole."""
    q = BODICE.points(fitted.x)
    chest = 2 * q["armpit"][0]
    length = q["hem"][1] - min(q["shoulder"][1], q["neck"][1])
    armhole = float(np.linalg.norm(q["shoulder"] - q["armpit"]))
    p = BODICE.named(fitted.x)
    return {"length": length / chest, "sleeve": p["sleeve"] / chest, "cuff": p["cuff"] / max(armhole, 1e-6),
            "hem": q["hem"][0] / max(q["waist"][0], 1e-6)}


def sleeve_kind(fitted: Fitted) -> str:
    """By the sleeve's length against the chest's width (a size-M chest is ~50 cm flat: a cap
    sleeve < 10 cm, short < 30, three-quarter < 45, long beyond)."""
    if fitted.pattern is not BODICE or fitted.x[10] <= 0:
        return "none"
    ratio = bodice_ratios(fitted)["sleeve"]
    for kind, below in (("none", 0.08), ("cap", 0.2), ("short", 0.6), ("three_quarter", 0.9)):
        if ratio < below:
            return kind
    return "long"


def leg_kind(fitted: Fitted) -> str:
    """Trousers by their inseam against the whole length: shorts' is under half."""
    if fitted.pattern is not LEGS:
        return "none"  # a skirt
    inseam = 1.0 - LEGS.named(fitted.x)["crotch_y"]
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
            r = bodice_ratios(fitted)
            cost = _outside(r["length"], *self.length_range) + _outside(r["cuff"], 0.3, 1.8)
            return PRIOR_WEIGHT * cost
        p = fitted.pattern.named(fitted.x)
        # A waistband is about as wide as the hips below it (a top's straps or neck are not).
        cost = _outside(1.0 / (2 * p["waist_x"]), *self.length_range) + _outside(p["waist_x"] / p["hip_x"], 0.75, 1.2)
        if fitted.pattern is LEGS and p["hem_in"] < LEG_GAP:
            cost += 1.0  # no gap between the legs: not a pair of legs
        return PRIOR_WEIGHT * cost


REGISTRY: dict[str, Category] = {c.name: c for c in (
    Category("top", ("bodice",), 0.70, 0.10, 1, "neck", ("neck", "hem", "sleeves"), (0.6, 1.6), sleeve_kind),
    Category("outer", ("bodice",), 0.78, 0.12, 2, "neck", ("neck", "hem", "sleeves"), (0.6, 1.8), sleeve_kind),
    Category("dress", ("bodice",), 1.05, 0.10, 0, "neck", ("neck", "hem", "sleeves"), (1.7, 4.0), sleeve_kind),
    Category("bottom", ("legs", "skirt"), 1.00, 0.08, 0, "waist", ("waist", "legs"), (1.2, 4.5), leg_kind),
)}
AUTO_CATEGORIES = ("top", "bottom", "dress")  # outerwear looks like a top: the user says so
