"""Category rules: where a garment goes on the body, how it is scaled, and how its sleeves and legs
are turned to follow the avatar's arms and legs (the presets stand in an A-pose; flat-lay photos
spread sleeves out sideways)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

from core.fitting.body import BodyModel
from core.mesh.importer import front_mask

# Ease over the body's flat half-girth: how much wider than the body the garment is cut.
EASE = {"tight": 1.02, "regular": 1.10, "loose": 1.22}
TORSO_BAND = (0.3, 0.6)  # rows (fractions of the height) across the chest and belly of a top
OUTER_EXTRA_EASE = 1.08  # outerwear goes over another layer
BLEND_M = 0.05  # sleeves and legs turn gradually over this distance around their joint
TOP_BELOW_CROTCH_M = 0.03  # the longest a top hangs: just past the crotch


@dataclass(frozen=True)
class FrontRuns:
    """The garment's front silhouette read row by row: in each row, the run of cloth through the
    centre line is the torso; rows without cloth on the centre line (the neckline) take the torso
    of the row below. One rasterisation serves the width and the sleeve test."""

    left: np.ndarray  # per row, first torso pixel
    right: np.ndarray  # per row, last torso pixel
    have: np.ndarray  # per row, cloth on the centre line
    joined: np.ndarray  # per row, the cloth runs on past the torso's sides (a sleeve joined to it)
    px_per_m: float
    x0: float
    y1: float
    height: float

    @classmethod
    def of(cls, mesh: trimesh.Trimesh, size: int = 256) -> FrontRuns:
        mask = front_mask(mesh, size)
        v = mesh.vertices
        px_per_m = (size - 4) / max(float(np.ptp(v[:, :2], axis=0).max()), 1e-9)
        x0, y1 = float(v[:, 0].min()), float(v[:, 1].max())
        centre = round((0.0 - x0) * px_per_m + 2)  # the anchor is on the centre line
        left = np.full(size, centre, float)
        right = np.full(size, centre, float)
        have = mask[:, centre].copy()
        for row in np.flatnonzero(have):
            gaps = np.flatnonzero(~mask[row])
            lo, hi = gaps[gaps < centre], gaps[gaps > centre]
            left[row], right[row] = (lo[-1] if len(lo) else -1) + 1, (hi[0] if len(hi) else size) - 1
        if have.any():
            idx = np.where(have, np.arange(size), size)
            nearest = np.minimum.accumulate(idx[::-1])[::-1]
            nearest = np.where(nearest < size, nearest, np.flatnonzero(have)[-1])
            left, right = left[nearest], right[nearest]
            # Above the body of the garment, a run wider than the body is a sleeve joined to it
            # (dropped shoulders, sleeves spread wide): keep the torso's sides going straight up.
            height_px = float(np.ptp(v[:, 1])) * px_per_m
            body_rows = np.arange(int(2 + TORSO_BAND[0] * height_px), int(2 + TORSO_BAND[1] * height_px) + 1)
            body_rows = body_rows[have[np.clip(body_rows, 0, size - 1)]]
            if len(body_rows):
                upper = np.arange(size) < body_rows[0]
                left[upper] = np.maximum(left[upper], np.median(left[body_rows]))
                right[upper] = np.minimum(right[upper], np.median(right[body_rows]))
        rows = np.arange(size)
        joined = (mask[rows, np.clip(left - 1, 0, size - 1).astype(int)]
                  | mask[rows, np.clip(right + 1, 0, size - 1).astype(int)])
        return cls(left, right, have, joined, px_per_m, x0, y1, float(np.ptp(v[:, 1])))

    def width(self, band: tuple[float, float]) -> float:
        """Median torso width (m) over the rows in `band` (fractions of the height from the top)."""
        rows = np.arange(int(2 + band[0] * self.height * self.px_per_m),
                         int(2 + band[1] * self.height * self.px_per_m) + 1)
        rows = rows[self.have[rows]]
        if not len(rows):
            return (self.right.max() - self.left.min() + 1) / self.px_per_m
        return float(np.median(self.right[rows] - self.left[rows] + 1)) / self.px_per_m

    def sleeve_weight(self, vertices: np.ndarray, blend: float, upper: float = 0.9) -> np.ndarray:
        """How much each vertex belongs to a sleeve (0 torso … 1 sleeve), however the flat-lay
        photo spread or dropped it: cloth sideways outside the torso, in the upper part. Where the
        sleeve is joined to the torso the weight grows over `blend` (m) so the turn fades in across
        the shoulder; a sleeve hanging apart from the torso is all sleeve, so it turns as one piece."""
        rows = np.clip(np.round((self.y1 - vertices[:, 1]) * self.px_per_m + 2).astype(int), 0, len(self.left) - 1)
        cols = (vertices[:, 0] - self.x0) * self.px_per_m + 2
        out = np.maximum(np.maximum(cols - self.right[rows], self.left[rows] - cols), 0.0) / self.px_per_m
        apart = (out > 2.0 / self.px_per_m).astype(float)  # clear of the torso's edge, not a rounding
        weight = np.where(self.joined[rows], np.clip(out / blend, 0.0, 1.0), apart)
        return weight * ((self.y1 - vertices[:, 1]) < upper * self.height)


def place(garment: trimesh.Trimesh, category: str, body: BodyModel, ease: str = "regular") -> trimesh.Trimesh:
    """Scale and move a garment (glTF frame, origin at its anchor = top centre) onto the body.

    Tops, outerwear and dresses hang from the neck base and take the chest's width; bottoms hang
    from the waist and take the waist's width. Depth is scaled so the body fits inside. Then
    sleeves turn about the shoulders onto the arms, trouser legs about the hips onto the legs.
    """
    g = garment.copy()
    flat = garment.vertices  # the flat-lay garment, untouched: g is transformed below
    if category == "bottom":
        ref_name, anchor_y, band = "waist", body.point("waist")[1] + 0.02, (0.0, 0.06)
    else:  # across the chest and belly, below the armholes
        ref_name, anchor_y, band = "chest", body.neck_base_y + 0.01, TORSO_BAND
    ref_y = body.point(ref_name)[1]
    x0, x1, z0, z1 = body.torso_extent(ref_y)
    girth_key = "waist_cm" if category == "bottom" else "chest_cm"
    half_girth = body.measurements.get(girth_key, 200 * (x1 - x0)) / 200.0
    target = half_girth * EASE[ease] * (OUTER_EXTRA_EASE if category == "outer" else 1.0)
    runs = FrontRuns.of(garment)
    garment_width = runs.width(band)
    s = np.clip(target / max(garment_width, 1e-6), 0.5, 2.0)
    body_depth = z1 - z0
    garment_depth = float(np.ptp(flat[:, 2])) * s
    sz = max(1.0, 1.08 * body_depth / max(garment_depth, 1e-6)) * s
    sy = s
    if category == "top":  # a top ends at the hips: a flat-lay photo's length is not the wearer's
        longest = anchor_y - (body.point("crotch")[1] - TOP_BELOW_CROTCH_M)
        sy = min(s, longest / max(float(np.ptp(flat[:, 1])), 1e-6))
    centre = body.point("pelvis")
    transform = np.diag([s, sy, sz, 1.0])
    transform[:3, 3] = [centre[0], anchor_y, (z0 + z1) / 2]
    g.apply_transform(transform)
    if category == "bottom":
        g.vertices = _turn_limbs(g.vertices, body, "hip", "knee", along_x=False)
    else:
        g.vertices = _turn_limbs(g.vertices, body, "shoulder", "elbow", along_x=True,
                                 sleeve=runs.sleeve_weight(flat, BLEND_M / s))
    return g


def _turn_limbs(v: np.ndarray, body: BodyModel, joint: str, next_joint: str, along_x: bool,
                sleeve: np.ndarray | None = None) -> np.ndarray:
    """Turn each side's limb part of the garment (sleeve or trouser leg) about the avatar's joint,
    in the frontal plane, so that its axis follows the avatar's limb; the turn fades in across
    the joint so the cloth does not tear at the armpit or crotch."""
    out = v.copy()
    for side, sign in (("l", 1.0), ("r", -1.0)):
        pivot = body.point(f"{joint}_{side}")
        limb = body.point(f"{next_joint}_{side}") - pivot
        if along_x:  # sleeves: this side's cloth beyond the torso
            weight = sleeve * (sign * v[:, 0] > 0)
        else:  # legs: the part of this side below the crotch
            weight = np.clip((body.point("crotch")[1] - v[:, 1]) / BLEND_M + 0.5, 0.0, 1.0) * (sign * v[:, 0] > 0)
        part = weight > 0.99
        if part.sum() < 10:
            continue
        axis = v[part, :2].mean(axis=0) - pivot[:2]
        angle = np.arctan2(limb[1], limb[0]) - np.arctan2(axis[1], axis[0])
        angle = (angle + np.pi) % (2 * np.pi) - np.pi
        theta = weight * angle
        dx, dy = v[:, 0] - pivot[0], v[:, 1] - pivot[1]
        moving = weight > 0
        out[moving, 0] = pivot[0] + np.cos(theta[moving]) * dx[moving] - np.sin(theta[moving]) * dy[moving]
        out[moving, 1] = pivot[1] + np.sin(theta[moving]) * dx[moving] + np.cos(theta[moving]) * dy[moving]
    return out


def hug_weights(v: np.ndarray, category: str, band_m: float = 0.12) -> np.ndarray:
    """Where the garment should rest on the body: the shoulders of tops and dresses, the waistband
    of bottoms (1 at the top edge, fading out over `band_m`); elsewhere it hangs."""
    band = 0.06 if category == "bottom" else band_m
    return np.clip(1.0 - (v[:, 1].max() - v[:, 1]) / band, 0.0, 1.0)
