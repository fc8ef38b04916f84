"""Parametric flat patterns, drawn as polygons in the parse frame: y down from the silhouette's top
(0) to its bottom (1), x across from its centre line, both in units of the silhouette's height.
Patterns are symmetric: each draws its right half (x >= 0) and mirrors it.

A pattern is what a garment is cut from, so its parameters are what a person would measure on the
flat garment: neck, shoulder, armpit, waist and hem points, sleeve length, angle and cuff; waist,
hips, crotch and leg hems. Fitting them to a mask (parse.py) is an optimisation, not a reading of
pixel runs, and the parts (torso, sleeves, skirt, legs) come with the fitted outline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Polygon = np.ndarray  # (n, 2) points, x across, y down
SHOULDER_OVER_ARMPIT = 1.2  # the widest a bodice's shoulder point is, for its armpit (dropped shoulders)
SHOULDER_SLOPE = 0.6  # the steepest a shoulder seam falls from the neck (drop over run)


def mirror(half: Polygon) -> Polygon:
    """The right half's outline (from the centre line at the top round to the centre line at the
    bottom) with its mirror image: the whole closed outline."""
    left = half[::-1] * [-1.0, 1.0]
    return np.concatenate([half, left])


@dataclass(frozen=True)
class Param:
    name: str
    low: float
    high: float


@dataclass(frozen=True)
class Pattern:
    """One family of shapes: its parameters and how they draw the outline and the parts."""

    name: str
    params: tuple[Param, ...]

    @property
    def bounds(self) -> list[tuple[float, float]]:
        return [(p.low, p.high) for p in self.params]

    def named(self, x: np.ndarray) -> dict[str, float]:
        return {p.name: float(v) for p, v in zip(self.params, x)}

    def points(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """The outline's landmarks (right side; the left mirrors them)."""
        raise NotImplementedError

    def outline(self, x: np.ndarray) -> Polygon:
        raise NotImplementedError

    def parts(self, x: np.ndarray) -> dict[str, Polygon]:
        """Each part's region (polygons that tile the outline)."""
        raise NotImplementedError


def _sleeve(p: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """A sleeve's cuff corners: along its top edge from the shoulder point at `angle` from straight
    down (0: hanging, pi/2: spread out sideways) for `sleeve`, then `cuff` across, down and in."""
    along = np.array([np.sin(p["angle"]), np.cos(p["angle"])])
    across = np.array([-along[1], along[0]])  # down and in from the top edge
    top = np.array([p["shoulder_x"], p["shoulder_y"]]) + p["sleeve"] * along  # shoulder_x as clamped
    return top, top + p["cuff"] * across


class BodiceShape(Pattern):
    """Tops, outerwear and dresses: neck, shoulder, sleeve (length 0: none), armpit, waist, hem."""

    def __init__(self) -> None:
        super().__init__("bodice", (
            Param("neck_x", 0.01, 0.45), Param("neck_y", 0.0, 0.35),
            Param("shoulder_x", 0.04, 0.9), Param("shoulder_y", 0.0, 0.45),
            Param("armpit_x", 0.04, 0.9), Param("armpit_y", 0.05, 0.8),
            Param("waist_x", 0.04, 0.9), Param("waist_at", 0.15, 0.85),  # share of armpit -> hem
            Param("hem_x", 0.04, 1.2), Param("hem_y", 0.3, 1.0),
            Param("sleeve", 0.0, 1.6), Param("angle", 0.0, 2.0), Param("cuff", 0.01, 0.6),
        ))

    def points(self, x: np.ndarray) -> dict[str, np.ndarray]:
        p = self.named(x)
        # A shoulder seam ends about the armhole's width out (within it, without sleeves) and slopes
        # gently from the neck: wider or steeper, and the "shoulder" would be a sleeve.
        widest = SHOULDER_OVER_ARMPIT if p["sleeve"] > 0 else 1.0
        p["shoulder_x"] = min(p["shoulder_x"], widest * p["armpit_x"])
        p["shoulder_y"] = min(p["shoulder_y"], p["neck_y"] + SHOULDER_SLOPE * max(p["shoulder_x"] - p["neck_x"], 0.0))
        armpit_y = max(p["armpit_y"], p["shoulder_y"] + 0.01)
        hem_y = max(p["hem_y"], armpit_y + 0.05)
        waist_y = armpit_y + p["waist_at"] * (hem_y - armpit_y)
        cuff_top, cuff_bottom = _sleeve(p)
        return {"neck": np.array([p["neck_x"], p["neck_y"]]),
                "shoulder": np.array([p["shoulder_x"], p["shoulder_y"]]),
                "cuff_top": cuff_top, "cuff_bottom": cuff_bottom,
                "armpit": np.array([p["armpit_x"], armpit_y]),
                "waist": np.array([p["waist_x"], waist_y]),
                "hem": np.array([p["hem_x"], hem_y])}

    def outline(self, x: np.ndarray) -> Polygon:
        q = self.points(x)
        half = [np.array([0.0, q["neck"][1] + 0.5 * q["neck"][0]]),  # the neckline dips at the front
                q["neck"], q["shoulder"], q["cuff_top"], q["cuff_bottom"], q["armpit"], q["waist"], q["hem"],
                np.array([0.0, q["hem"][1]])]
        return mirror(np.array(half))

    def parts(self, x: np.ndarray) -> dict[str, Polygon]:
        q = self.points(x)
        torso = mirror(np.array([[0.0, q["neck"][1] + 0.5 * q["neck"][0]], q["neck"], q["shoulder"], q["armpit"],
                                 q["waist"], [0.0, q["waist"][1]]]))
        skirt = mirror(np.array([[0.0, q["waist"][1]], q["waist"], q["hem"], [0.0, q["hem"][1]]]))
        right = np.array([q["shoulder"], q["cuff_top"], q["cuff_bottom"], q["armpit"]])
        return {"torso": torso, "skirt": skirt, "sleeve_l": right, "sleeve_r": right * [-1.0, 1.0]}


class LegsShape(Pattern):
    """Trousers and shorts: waistband, hips, crotch, two legs to their hems."""

    def __init__(self) -> None:
        super().__init__("legs", (
            Param("waist_x", 0.04, 0.6), Param("hip_x", 0.04, 0.8), Param("hip_y", 0.02, 0.6),
            Param("crotch_y", 0.1, 0.95), Param("hem_out", 0.04, 1.0), Param("hem_in", 0.0, 0.6),
        ))

    def points(self, x: np.ndarray) -> dict[str, np.ndarray]:
        p = self.named(x)
        hip_y = min(p["hip_y"], p["crotch_y"])
        hem_in = min(p["hem_in"], p["hem_out"] - 0.02)
        return {"waist": np.array([p["waist_x"], 0.0]), "hip": np.array([p["hip_x"], hip_y]),
                "hem_out": np.array([p["hem_out"], 1.0]), "hem_in": np.array([hem_in, 1.0]),
                "crotch": np.array([0.0, p["crotch_y"]])}

    def outline(self, x: np.ndarray) -> Polygon:
        q = self.points(x)
        return mirror(np.array([[0.0, 0.0], q["waist"], q["hip"], q["hem_out"], q["hem_in"], q["crotch"]]))

    def parts(self, x: np.ndarray) -> dict[str, Polygon]:
        q = self.points(x)
        crotch_y = q["crotch"][1]
        # the seat: above the crotch, across the hips' width there
        t = (crotch_y - q["hip"][1]) / max(1.0 - q["hip"][1], 1e-6)
        side = q["hip"] + t * (q["hem_out"] - q["hip"]) if crotch_y > q["hip"][1] else q["hip"]
        seat = mirror(np.array([[0.0, 0.0], q["waist"], q["hip"], side, [0.0, crotch_y]]))
        leg = np.array([[0.0, crotch_y], side, q["hem_out"], q["hem_in"]])
        return {"seat": seat, "leg_l": leg, "leg_r": leg * [-1.0, 1.0]}


class SkirtShape(Pattern):
    """Skirts: waistband, hips, hem; one piece, no legs."""

    def __init__(self) -> None:
        super().__init__("skirt", (
            Param("waist_x", 0.04, 0.6), Param("hip_x", 0.04, 0.8), Param("hip_y", 0.02, 0.6),
            Param("hem_x", 0.04, 1.2),
        ))

    def points(self, x: np.ndarray) -> dict[str, np.ndarray]:
        p = self.named(x)
        return {"waist": np.array([p["waist_x"], 0.0]), "hip": np.array([p["hip_x"], p["hip_y"]]),
                "hem": np.array([p["hem_x"], 1.0])}

    def outline(self, x: np.ndarray) -> Polygon:
        q = self.points(x)
        return mirror(np.array([[0.0, 0.0], q["waist"], q["hip"], q["hem"], [0.0, 1.0]]))

    def parts(self, x: np.ndarray) -> dict[str, Polygon]:
        return {"skirt": self.outline(x)}


BODICE, LEGS, SKIRT = BodiceShape(), LegsShape(), SkirtShape()
SHAPES = {s.name: s for s in (BODICE, LEGS, SKIRT)}
