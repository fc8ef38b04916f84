"""Parametric flat patterns, drawn as polygons in the parse frame: y down from the silhouette's top
(0) to its bottom (1), x across from its centre line, both in units of the silhouette's height.
Patterns are symmetric: each draws its right half (x >= 0) and mirrors it.

A pattern is what a garment is cut from, so its parameters are what a person would measure on the
flat garment: neck, shoulder, armpit, waist and hem points, sleeve length and cuff; waist, hips,
crotch and leg hems. What holds for every real garment is built into how they draw (widths as
shares of the width below them, sleeves set in near the body's side, a sleeveless shoulder inside
its armhole, a sleeve's root its armhole, hips no narrower than the waistband and falling from it
as a body's do), so that no search reaches a shape no garment has. Each sleeve's angle is pose,
not pattern: the two may differ. Fitting them to a mask (parse.py) is an optimisation, not a
reading of pixel runs, and the parts (torso, sleeves, skirt, legs) come with the fitted outline.
"""

from __future__ import annotations

import math

import numpy as np

from core.garment.pattern import FLIP, Param, Pattern, Polygon, mirror

SHOULDER_OVER_ARMPIT = 1.1  # the widest a sleeved bodice's shoulder point is, for its armpit (dropped shoulders)
SET_IN = 0.6  # the narrowest a sleeved bodice's shoulder point is, for its armpit
SLEEVED_NECK = 0.7  # the widest a sleeved bodice's neck is, for its shoulder (a boat neck)
NECK_CURVE = 0.5  # how far the neckline bows towards the corner below the neck point (0: a V)
SHOULDER_SLOPE = 0.6  # the steepest a shoulder seam falls from the neck (drop over run)
ARMHOLE_CURVE = 0.5  # how far the armhole bows in towards the corner below the shoulder point (0: straight)
ARMHOLE_STEPS = (0.2, 0.4, 0.6, 0.8)  # where along them curved seams have their inner points
_BERNSTEIN = [((1 - t) ** 2, 2 * t * (1 - t), t**2) for t in ARMHOLE_STEPS]  # a quadratic curve's weights there
MIN_SLEEVE = 0.02  # the shortest sleeve, in heights (a cap sleeve is a few centimetres)
HIP_SLOPE = 0.5  # the most the sides widen, per unit down, from a waistband to the hips (~27 degrees)
CROTCH_CURVE = 0.1  # share of the inseam over which the crotch curve opens the gap between the legs


def _curve(start: tuple[float, float], end: tuple[float, float], corner: tuple[float, float],
           bow: float) -> list[tuple[float, float]]:
    """A seam's inner points, start to end: a curve bowed by `bow` from the straight line towards
    `corner`, as armholes and necklines are cut (a sleeve's root follows its armhole, so the two
    always meet)."""
    (sx, sy), (ex, ey) = start, end
    cx = (1 - bow) * (sx + ex) / 2 + bow * corner[0]
    cy = (1 - bow) * (sy + ey) / 2 + bow * corner[1]
    return [(a * sx + b * cx + c * ex, a * sy + b * cy + c * ey) for a, b, c in _BERNSTEIN]


class BodiceShape(Pattern):
    """Tops, outerwear and dresses: neck, shoulder, sleeve (length 0: none), armpit, waist, hem.
    Widths are shares of the one below them where a garment's construction ties them (shoulder
    and waist of the chest, hem of the waist, neck of the shoulder), so that the search moves
    the whole torso with its chest and the constraints are the bounds."""

    def __init__(self) -> None:
        super().__init__("bodice", (
            Param("chest", 0.05, 1.5), Param("armhole", 0.6, 1.2),  # armhole: its depth over the chest
            Param("shoulder", 0.3, SHOULDER_OVER_ARMPIT), Param("shoulder_y", 0.0, 0.45),
            Param("neck", 0.05, 0.95), Param("neck_y", 0.0, 0.35), Param("neck_drop", 0.0, 0.6),
            Param("waist", 0.7, 1.05), Param("waist_at", 0.15, 0.85),  # waist_at: share of armpit -> hem
            Param("hem", 0.5, 2.5), Param("hem_y", 0.3, 1.0),
            Param("sleeve", 0.0, 1.1), Param("angle", 0.0, 2.0), Param("cuff", 0.3, 1.1),  # cuff: over the armhole
            Param("angle_r", 0.0, 2.0),  # sleeve_r's (x < 0; angle is sleeve_l's): a pose, not the pattern
            Param("hem_rise", 0.0, 0.3),  # a curved hem (shirt tails, a flared skirt laid flat): the sides' rise
            Param("hang", 0.0, 1.0),  # the sleeves' pose, a mode (from 0.5: hanging from the shoulder point)
        ))

    @staticmethod
    def hanging(x: np.ndarray) -> bool:
        """Whether the sleeves hang from the shoulder points down over the body's sides (folded
        there, their roots across the shoulders), not out of the armholes: a jumper laid flat
        with its sleeves flush down its sides shows no armhole, only the sleeves' outer edges."""
        return bool(x[HANG] >= 0.5)

    @staticmethod
    def sleeved(x: np.ndarray) -> bool:
        """Whether the bodice has sleeves: a shorter "sleeve" is the armhole's own edge."""
        return bool(x[SLEEVE] >= MIN_SLEEVE)

    def points(self, x: np.ndarray) -> dict[str, np.ndarray]:
        return {k: np.array(v) for k, v in self._points(x).items()}

    def _points(self, x: np.ndarray) -> dict[str, tuple[float, float]]:
        """The landmarks as plain pairs (the search draws tens of thousands of outlines)."""
        (chest, armhole, shoulder, shoulder_y, neck, neck_y, neck_drop, waist, waist_at, hem, hem_y,
         sleeve, angle, cuff, angle_r, hem_rise, _) = x.tolist()
        hanging = self.hanging(x)
        # Without sleeves the shoulder ends inside the armhole: wider, and the "shoulder" would be
        # a sleeve. A sleeve is set in near the body's side (straps are narrower, but have no
        # sleeve, nor a neck out to the shoulder point). The shoulder slopes down from the neck,
        # gently: steeper, it would be a sleeve.
        if sleeve >= MIN_SLEEVE:
            shoulder_x = chest * min(max(shoulder, SET_IN), SHOULDER_OVER_ARMPIT)
            neck_x = min(neck, SLEEVED_NECK) * shoulder_x
        else:
            shoulder_x = chest * min(shoulder, 1.0)
            neck_x = neck * shoulder_x
        shoulder_y = min(max(shoulder_y, neck_y), neck_y + SHOULDER_SLOPE * (shoulder_x - neck_x))
        armpit_y = shoulder_y + armhole * chest  # an armhole's depth is in proportion to the chest
        hem_y = max(hem_y, armpit_y + 0.05)
        side_y = max(hem_y - hem_rise, armpit_y + 0.05)  # the hem's side corner
        waist_x = waist * chest
        # The sleeve: its axis from the armhole's middle, `angle` from straight down, `sleeve`
        # long, to a cuff across it that is a share of the armhole (a sleeve tapers from its root).
        # Hanging, its outer edge is the axis, from the shoulder point, and it tapers inwards.
        root_x, root_y = chest - shoulder_x, armpit_y - shoulder_y
        root = math.hypot(root_x, root_y)
        half_cuff = cuff * root / 2

        def cuff_corners(angle: float) -> tuple[tuple[float, float], tuple[float, float]]:
            down, out = math.cos(angle), math.sin(angle)
            if hanging:
                outer_x, outer_y = shoulder_x + sleeve * out, shoulder_y + sleeve * down
                return (outer_x, outer_y), (outer_x - 2 * half_cuff * down, outer_y + 2 * half_cuff * out)
            middle_x, middle_y = shoulder_x + root_x / 2 + sleeve * out, shoulder_y + root_y / 2 + sleeve * down
            return ((middle_x + half_cuff * down, middle_y - half_cuff * out),
                    (middle_x - half_cuff * down, middle_y + half_cuff * out))

        (top, bottom), (top_r, bottom_r) = cuff_corners(angle), cuff_corners(angle_r)
        return {"neck_front": (0.0, neck_y + min(neck_drop, 0.8 * (hem_y - neck_y))),
                "neck": (neck_x, neck_y), "shoulder": (shoulder_x, shoulder_y),
                "cuff_top": top, "cuff_bottom": bottom,
                "cuff_top_r": top_r, "cuff_bottom_r": bottom_r,  # sleeve_r's, mirrored as the others
                "armpit": (chest, armpit_y),
                "waist": (waist_x, armpit_y + waist_at * (side_y - armpit_y)),
                "hem": (hem * waist_x, side_y), "hem_mid": (hem * waist_x / 2, (3 * hem_y + side_y) / 4),
                "hem_centre": (0.0, hem_y)}

    def parts(self, x: np.ndarray) -> dict[str, Polygon]:
        q = self._points(x)
        top = self._top(q)
        torso = mirror(np.array([*top, q["armpit"], q["waist"], (0.0, q["waist"][1])]))
        skirt = mirror(np.array([(0.0, q["waist"][1]), q["waist"], q["hem"], q["hem_mid"], q["hem_centre"]]))
        sleeves, body = self._sleeves(x, q, top[-len(ARMHOLE_STEPS):]), {"torso": torso, "skirt": skirt}
        # Sleeves laid down a flat garment lie over the body's sides (hanging, or steep): the cloth
        # there is the body's, drawn last (the sleeves' own cloth is the part beyond it, and their
        # tubes are built round the arms); raised sleeves meet the body at the armhole only.
        return sleeves | body

    def pieces(self, x: np.ndarray) -> list[Polygon]:
        """The body in one piece (no seam across it at the waist), and the sleeves."""
        q = self._points(x)
        top = self._top(q)
        body = mirror(np.array([*top, q["armpit"], q["waist"], q["hem"], q["hem_mid"], q["hem_centre"]]))
        return [body, *self._sleeves(x, q, top[-len(ARMHOLE_STEPS):]).values()]

    @staticmethod
    def _top(q: dict[str, tuple[float, float]]) -> list[tuple[float, float]]:
        """The outline from the front of the neck round to the armhole's last inner point: the
        neckline (bowed towards the corner below the neck point: a scoop, not a V), the shoulder
        seam and the armhole."""
        neck = _curve(q["neck_front"], q["neck"], (q["neck"][0], q["neck_front"][1]), NECK_CURVE)
        armhole = _curve(q["shoulder"], q["armpit"], (q["shoulder"][0], q["armpit"][1]), ARMHOLE_CURVE)
        return [q["neck_front"], *neck, q["neck"], q["shoulder"], *armhole]

    def _sleeves(self, x: np.ndarray, q: dict[str, tuple[float, float]],
                 armhole: list[tuple[float, float]]) -> dict[str, Polygon]:
        """Each sleeve's region, its root the armhole (none under MIN_SLEEVE); hanging, its root
        folded across the shoulder, as wide as the armhole is long (the body's side under it)."""
        if not self.sleeved(x):
            return {}
        sleeves = []
        for angle, top, bottom in ((x[ANGLE], "cuff_top", "cuff_bottom"), (x[ANGLE_R], "cuff_top_r", "cuff_bottom_r")):
            if self.hanging(x):
                (sx, sy), width = q["shoulder"], math.dist(q["shoulder"], q["armpit"])
                root = [(sx - width * math.cos(angle), sy + width * math.sin(angle))]
            else:
                root = [q["armpit"], *armhole[::-1]]
            sleeves.append(np.array([q["shoulder"], q[top], q[bottom], *root]))
        return {"sleeve_l": sleeves[0], "sleeve_r": sleeves[1] * FLIP}


def _hip_x(waist_x: float, hip: float, hip_y: float) -> float:
    """The hips' half-width: `hip` of the waistband's, but no further out than HIP_SLOPE of their
    drop below it (a waistband's sides fall steeply to the hips; a top's shoulders do not)."""
    return min(hip * waist_x, waist_x + HIP_SLOPE * hip_y)


class LegsShape(Pattern):
    """Trousers and shorts: waistband, hips, crotch, two legs to their hems. The hips are as wide
    as the waistband or wider (a waistband is cut to the hips, a top's neck or straps are not),
    each leg's inner hem is a share of its outer one (the legs apart by at most ~1.5 legs' width
    at their hems), and the gap between the legs opens from the crotch within CROTCH_CURVE of the
    inseam to `fork` of its width at the hems (1: parallel legs, 0: legs spread in a V), or, the
    legs laid together, from `parting` of the inseam below the crotch (wide legs overlap down to
    near their hems)."""

    def __init__(self) -> None:
        super().__init__("legs", (
            Param("waist_x", 0.04, 1.0), Param("hip", 0.9, 1.6), Param("hip_y", 0.12, 0.6),
            Param("crotch_y", 0.1, 0.97), Param("hem_out", 0.04, 1.0), Param("hem_in", 0.0, 0.6),
            # legs laid spread apart, or flared, have slanted hems: each corner's height
            Param("hem_out_y", 0.7, 1.0), Param("hem_in_y", 0.6, 1.0), Param("fork", 0.0, 1.0),
            Param("parting", 0.0, 0.95),
        ))

    def points(self, x: np.ndarray) -> dict[str, np.ndarray]:
        waist_x, hip, hip_y, crotch_y, hem_out, hem_in, hem_out_y, hem_in_y, fork, parting = x.tolist()
        hem_in_x, hem_in_y = hem_in * hem_out, max(hem_in_y, crotch_y + 0.02)
        hem_out_y = max(hem_out_y, hip_y + 0.02)
        hip_y = min(hip_y, crotch_y)
        return {"waist": np.array([waist_x, 0.0]), "hip": np.array([_hip_x(waist_x, hip, hip_y), hip_y]),
                "hem_out": np.array([hem_out, hem_out_y]), "hem_in": np.array([hem_in_x, hem_in_y]),
                "fork": np.array([fork * hem_in_x, crotch_y + max(CROTCH_CURVE, parting) * (hem_in_y - crotch_y)]),
                "crotch": np.array([0.0, crotch_y])}

    def pieces(self, x: np.ndarray) -> list[Polygon]:
        q = self.points(x)
        return [mirror(np.array([[0.0, 0.0], q["waist"], q["hip"], q["hem_out"], q["hem_in"], q["fork"],
                                 q["crotch"]]))]

    def parts(self, x: np.ndarray) -> dict[str, Polygon]:
        q = self.points(x)
        crotch_y = q["crotch"][1]
        # the seat: above the crotch, across the hips' width there
        t = (crotch_y - q["hip"][1]) / max(1.0 - q["hip"][1], 1e-6)
        side = q["hip"] + t * (q["hem_out"] - q["hip"]) if crotch_y > q["hip"][1] else q["hip"]
        seat = mirror(np.array([[0.0, 0.0], q["waist"], q["hip"], side, [0.0, crotch_y]]))
        leg = np.array([[0.0, crotch_y], side, q["hem_out"], q["hem_in"], q["fork"]])
        return {"seat": seat, "leg_l": leg, "leg_r": leg * FLIP}


class SkirtShape(Pattern):
    """Skirts: waistband, hips (as wide as the waistband or wider), hem; one piece, no legs. A
    flared skirt laid flat has a curved hem, its side corners `hem_rise` above its centre."""

    def __init__(self) -> None:
        super().__init__("skirt", (
            Param("waist_x", 0.04, 1.0), Param("hip", 0.9, 1.6), Param("hip_y", 0.15, 0.5), Param("hem", 0.8, 3.0),
            Param("hem_rise", 0.0, 0.3),
        ))

    def points(self, x: np.ndarray) -> dict[str, np.ndarray]:
        waist_x, hip, hip_y, hem, hem_rise = x.tolist()
        hip_x = _hip_x(waist_x, hip, hip_y)
        hem_y = max(1.0 - hem_rise, hip_y + 0.02)
        return {"waist": np.array([waist_x, 0.0]), "hip": np.array([hip_x, hip_y]),
                "hem": np.array([hem * hip_x, hem_y]), "hem_mid": np.array([hem * hip_x / 2, (hem_y + 3.0) / 4])}

    def parts(self, x: np.ndarray) -> dict[str, Polygon]:
        q = self.points(x)
        return {"skirt": mirror(np.array([[0.0, 0.0], q["waist"], q["hip"], q["hem"], q["hem_mid"], [0.0, 1.0]]))}


BODICE, LEGS, SKIRT = BodiceShape(), LegsShape(), SkirtShape()
SLEEVE = BODICE.index("sleeve")  # where the sleeve's length is among the bodice's parameters
ANGLE, ANGLE_R, HANG = (BODICE.index(p) for p in ("angle", "angle_r", "hang"))
SHAPES = {s.name: s for s in (BODICE, LEGS, SKIRT)}
