"""One entry per category: its patterns, proportion priors, layer order, anchor and openings.
Adding a category is one entry here and its tests."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from core.garment.fitting import Fitted
from core.garment.patterns import BODICE, LEGS, SLEEVE

PARTS = ("torso", "skirt", "sleeve_l", "sleeve_r", "seat", "leg_l", "leg_r")
PRIOR_WEIGHT = 0.5  # IoU lost per unit of squared log-ratio outside a prior's range
SLIT = 0.15  # share of the height: deeper slits from the hem are between a sleeve and the body
MEASURED = 10.0  # how much more a range about the photo's own measurement weighs than a proportion's
# The rise (waistband to crotch) of trousers and shorts over their length: a quarter of trousers'
# (~28 cm of 100-110; up to ~0.4 high-waisted), most of shorts' (of 35-50). Trousers are at least
# TROUSERS_LONG waistbands long (capris ~2, full length 2.5-3), shorts about one.
RISE = (0.2, 0.8)
TROUSERS_RISE = (0.2, 0.42)
TROUSERS_LONG = 2.0
PARTING_COST = 0.01  # prior cost per unit of `parting`: legs laid together part lower only as the photo shows
TROUSERS_PART = 0.1  # the least share of their length over which a pair of trousers' legs show apart


def _outside(value: float, low: float, high: float) -> float:
    """Squared log-distance of a ratio from a range (0 inside it; `low` may be 0, `high` inf)."""
    value = max(value, 1e-6)
    if value < low:
        return math.log(low / value) ** 2
    return math.log(value / high) ** 2 if value > high else 0.0


def _no_slit(fitted: Fitted) -> float:
    """A slit from the hem up off the centre line is a sleeve laid apart from the body: a garment
    without sleeves (or a skirt) has none deeper than a side vent's (SLIT)."""
    return MEASURED * _outside(1.0 - fitted.openings.side_slit, 1.0 - SLIT, 1.0)


def sleeves_prior(fitted: Fitted) -> float:
    """IoU-units of implausibility any bodice shares whatever its category: no sleeves where the
    photo shows one apart from the body (cheap enough to weigh in the sleeved search itself)."""
    return 0.0 if BODICE.sleeved(fitted.x) else PRIOR_WEIGHT * _no_slit(fitted)


def bodice_ratios(fitted: Fitted) -> dict[str, float]:
    """Scale-free proportions of a fitted bodice, over the chest's width: its length (neck point
    to hem), its hem's width, its sleeve's length (along its axis, from the armhole's middle to
    the cuff's); and how far out the sleeves' cuffs reach, over the body's side (under 1: a
    "sleeve" lying within the body, which no silhouette shows)."""
    q = BODICE.points(fitted.x)
    chest = 2 * q["armpit"][0]
    sleeved = BODICE.sleeved(fitted.x)
    sleeve = float(fitted.x[SLEEVE]) if sleeved else 0.0
    reach = min(q["cuff_top"][0], q["cuff_top_r"][0]) / q["armpit"][0] if sleeved else 1.0
    return {"length": (q["hem"][1] - q["neck"][1]) / chest, "flare": q["hem"][0] / q["armpit"][0],
            "sleeve": sleeve / chest, "reach": reach}


def _kind_by(ratio: float, cuts: tuple[float, float, float]) -> str:
    """The sleeve kind whose range holds `ratio`, given the cuts between cap, short, three-quarter
    and long."""
    for kind, below in zip(("cap", "short", "three_quarter"), cuts, strict=True):
        if ratio < below:
            return kind
    return "long"


def top_sleeve_kind(fitted: Fitted) -> str:
    """A top's sleeves by their length against the top's own (neck point to hem): both heights
    in the photo, which neither a form nor a photo resized to a try-on frame skews. On a size-M
    top (~70 cm long) a cap sleeve is ~5 cm along its axis, a short one ~15-18, three-quarter
    ~38-40, long ~55; the cuts fall between them. Measured from the armhole's middle, a short
    sleeve spread out at an angle reads longer (0.33 of the top's length on real photos, 0.37 on
    a T-shirt mesh; three-quarter ones from 0.57): those two part at 0.42, not at the size
    table's midpoint."""
    if fitted.pattern is not BODICE or not BODICE.sleeved(fitted.x):
        return "none"
    r = bodice_ratios(fitted)
    return _kind_by(r["sleeve"] / r["length"], (0.12, 0.42, 0.65))


def dress_sleeve_kind(fitted: Fitted) -> str:
    """A dress's sleeves by their length against its chest's width (its own length is its
    style's). On a size-M chest (~50 cm flat) a cap sleeve is under ~7 cm along its axis, a
    short one ~15, three-quarter ~38, long ~55; on a form, or resized to a try-on frame, the
    chest reads up to a third narrower. The cuts fall between the kinds' ranges."""
    if fitted.pattern is not BODICE or not BODICE.sleeved(fitted.x):
        return "none"
    return _kind_by(bodice_ratios(fitted)["sleeve"], (0.15, 0.6, 1.0))


def leg_kind(fitted: Fitted) -> str:
    """Shorts have an inseam under half their length, and are about as long as their waistband
    is wide (trousers over twice). The inseam is the fitted one or the photo's open centre line,
    whichever is longer; legs laid together hide the crotch, so that the gap between them starts
    lower: a garment twice as long as its waistband is trousers, whatever it shows."""
    if fitted.pattern is not LEGS:
        return "none"  # a skirt
    q = LEGS.points(fitted.x)
    inseam = max(q["hem_in"][1] - q["crotch"][1], fitted.openings.centre_gap)
    return "long" if inseam >= 0.5 or 1.0 / (2 * q["waist"][0]) >= 2.0 else "short"


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
    longest: str  # how low its hem may hang, by the body's landmarks: "crotch", "ankles" or "feet"
    excludes: tuple[str, ...]  # the categories an outfit cannot hold with it (a new one replaces them)
    flare: tuple[float, float] = (0.0, math.inf)  # a bodice's hem width over its chest width
    ease: float = 1.0  # over the body's girth, on top of the fit's ease (outerwear goes over a layer)
    rests_m: float = 0.12  # the band along its top edge that rests on the body; below it the cloth hangs

    def penalty(self, fitted: Fitted) -> float:
        """IoU-units of implausibility: a shape outside this category's proportions."""
        if fitted.pattern is BODICE:
            r = bodice_ratios(fitted)
            # No sleeve is longer than ~1.5 chests (65 cm on 45), a third more in a narrowed photo,
            # and each reaches past the body's side.
            cost = (_outside(r["length"], *self.length_range) + _outside(r["flare"], *self.flare)
                    + _outside(r["sleeve"], 0.0, 2.2) + _outside(r["reach"], 1.0, math.inf))
            return PRIOR_WEIGHT * cost + sleeves_prior(fitted)
        p = fitted.pattern.named(fitted.x)
        waist = 2 * p["waist_x"]
        cost = _outside(1.0 / waist, *self.length_range)
        # The photo shows the centre line open from the hem up to the crotch between two legs (or
        # as a line between legs laid together); a skirt's is closed to its hem (but for a tenth:
        # a hem's dip, a slit).
        opening = 1.0 - fitted.openings.centre_gap
        shows = max(fitted.openings.centre_gap, fitted.openings.centre_seam)
        if fitted.pattern is LEGS:
            q = LEGS.points(fitted.x)
            trousers = 1.0 / waist >= TROUSERS_LONG
            # The inseam: a tenth of shorts' length at least (~5 cm of 40).
            cost += (_outside(p["crotch_y"], *(TROUSERS_RISE if trousers else RISE))
                     + _outside(q["hem_in"][1] - q["crotch"][1], 0.1, 1.0))
            # Where the photo shows them part: measured, so held closely. Shorts' legs part at the
            # crotch (their gap starts a hair's width below it); a pair of trousers' legs, long and
            # often laid together (wide legs overlapping), part where the pattern's do (`parting`),
            # anywhere below it, so that their rise places the crotch (at the parting, it hung the
            # seat to the ankles); but they show apart over TROUSERS_PART at least, from the hems
            # up or as a line between them.
            parts_at = q["fork"][1] if trousers else p["crotch_y"]
            cost += MEASURED * _outside(parts_at / opening, 0.9, 1.25)
            if trousers:
                # legs part at the crotch unless the photo says otherwise (the simpler explanation),
                # which is no lower than where a line between them starts
                cost += MEASURED * _outside(shows, TROUSERS_PART, 1.0) + PARTING_COST * p["parting"]
                if fitted.openings.centre_seam >= TROUSERS_PART:
                    cost += MEASURED * _outside(p["crotch_y"] / fitted.openings.seam_top, 0.0, 1.1)
        else:
            cost += MEASURED * _outside(1.0 - shows, 0.9, 1.0) + _no_slit(fitted)
        return PRIOR_WEIGHT * cost


# Lengths over the visible chest (bodices) or waistband (bottoms). Laid flat, a top is 0.5 (cropped)
# to ~1.9 (a long tank) chests long, a dress from ~1.9 (a mini) to over 3; on a form, or resized into
# a try-on photo's 3:4 frame, widths read up to a third narrower, so that a top reaches 2.7. Dresses
# begin at 2.3: between the two a garment's flare decides (a top's hem is about its chest's width, a
# dress's skirt may flare), so a short flared dress is not taken for a top. Trousers are 2.5-3.2
# waistbands long flat (to 5.5 narrowed), shorts about one.
# A top ends at the hips, about as wide as its chest (a swing top a little wider); a dress's skirt
# may flare to any width.
REGISTRY: dict[str, Category] = {c.name: c for c in (
    Category("top", ("bodice",), 0.70, 0.10, 1, "neck", ("neck", "hem", "sleeves"), (0.5, 2.7), top_sleeve_kind,
             "crotch", ("top", "dress"), flare=(0.0, 1.35)),
    Category("bottom", ("legs", "skirt"), 1.00, 0.08, 0, "waist", ("waist", "legs"), (0.75, 5.5), leg_kind,
             "ankles", ("bottom", "dress"), rests_m=0.06),
    Category("dress", ("bodice",), 1.05, 0.10, 0, "neck", ("neck", "hem", "sleeves"), (2.3, 6.0), dress_sleeve_kind,
             "feet", ("top", "bottom", "dress")),
    Category("outer", ("bodice",), 0.78, 0.12, 2, "neck", ("neck", "hem", "sleeves"), (0.5, 3.0), top_sleeve_kind,
             "feet", ("outer",), ease=1.08),
)}
AUTO_CATEGORIES = ("top", "bottom", "dress")  # outerwear looks like a top: the user says so
CATEGORIES = tuple(REGISTRY)  # in the order every face lists them
SURE = 0.8  # a parse's confidence from which `auto` is said to be sure of the category
