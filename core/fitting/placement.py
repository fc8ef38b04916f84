"""Category rules: where a garment goes on the body, how it is scaled, and how its sleeves and legs
are turned to follow the avatar's arms and legs (the presets stand in an A-pose; flat-lay photos
spread sleeves out sideways)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh
from scipy import ndimage

from core.fitting.body import BodyModel
from core.mesh.importer import front_mask

# Ease over the body's flat half-girth: how much wider than the body the garment is cut.
EASE = {"tight": 1.02, "regular": 1.10, "loose": 1.22}
TORSO_BAND = (0.3, 0.6)  # rows (fractions of the height) across the chest and belly of a top
OUTER_EXTRA_EASE = 1.08  # outerwear goes over another layer
SLEEVE_ABOVE = 0.9  # cloth beside the torso above this share of the height is sleeve (below: a hem)
BLEND_M = 0.05  # sleeves and legs turn gradually over this distance around their joint
LIMB_END_SHARE = 0.1  # a sleeve's or leg's root and far end: its first and last tenth along its axis
LIMB_LONG = 2.0  # a part whose variance along its length is this many times that across is long
TOP_ABOVE_CROTCH_M = 0.02  # the longest a top hangs: its hem just above the crotch
ANKLE_BELOW_M = 0.02  # the longest trousers hang: just past the ankle joint, well above the soles
FLOOR_CLEAR_M = 0.03  # a dress or a long coat ends at least this far above the floor
HIP_BAND_M = 0.06  # a bottom's width at the hips: over this much above the hip line
# A sleeve laid along the torso shows as the torso's side stepping out by at least this much
# (garment metres) over SLEEVE_STEP_RISE_M going up, at the cuff, and staying out to the armpit.
SLEEVE_STEP_M = 0.04
SLEEVE_STEP_RISE_M = 0.015
SLEEVE_STEADY_M = 0.04  # ... with the torso's side going on below the cuff this far, not out again
SLEEVE_LAID_MIN_M = 0.06  # ... the step this far below the armpits (a sleeve touching the torso there only hangs apart)
SLEEVE_LAID_CUFF = 0.6  # ... and its cuff below this share of the height (higher: a T-shirt's sleeve)
SLEEVE_OUT_SHARE = 0.75  # ... out in this share of the rows up to the armpits (gathered sleeves dip in)
SYMMETRY_TOP = 0.1  # the top share of the height (collar, shoulders) that gives the centre line
# Cloth beside the torso is a sleeve if it starts above this share of the height (a T-shirt's
# sleeve may dip below the armpit rows, where the torso's side swallows its root).
SLEEVE_STARTS_ABOVE = 0.45
SLEEVE_ROOM_M = 0.01  # a rounded sleeve is at least this much wider than the arm, all round


@dataclass(frozen=True)
class FrontRuns:
    """The garment's front silhouette read row by row: in each row, the run of cloth through the
    centre line is the torso; rows without cloth on the centre line (the neckline) take the torso
    of the row below. One rasterisation serves the width and the sleeve test.

    A long sleeve laid along the torso in the photo touches it, so its run goes on through the
    sleeve: below the armpits, a side that steps out at a cuff and stays out up to the armpit is
    a sleeve's, and the torso's side goes on straight up from below the step."""

    left: np.ndarray  # per row, first torso pixel
    right: np.ndarray  # per row, last torso pixel
    have: np.ndarray  # per row, cloth on the centre line
    joined: np.ndarray  # per row, the cloth runs on past the torso's sides (a sleeve joined to it)
    alongside: np.ndarray  # per row, that cloth is a sleeve laid along the torso (cut from it when worn)
    hanging: np.ndarray  # per pixel, low cloth of a sleeve that hangs apart from the torso
    limb: np.ndarray  # per pixel, not cloth beside the torso that starts too low to be a sleeve
    outer_left: np.ndarray  # per row, the first cloth pixel (the garment's outline)
    outer_right: np.ndarray  # per row, the last cloth pixel
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
        height = float(np.ptp(v[:, 1]))
        height_px = height * px_per_m
        centre = round((0.0 - x0) * px_per_m + 2)  # the anchor is on the centre line
        left = np.full(size, centre, float)
        right = np.full(size, centre, float)
        have = mask[:, centre].copy()
        alongside = np.zeros(size, bool)
        cloth = mask.any(axis=1)
        outer_left = np.where(cloth, mask.argmax(axis=1), centre).astype(float)
        outer_right = np.where(cloth, size - 1 - mask[:, ::-1].argmax(axis=1), centre).astype(float)
        # From the centre outwards, the first gap on each side ends the run (or the image's edge).
        to_left, to_right = ~mask[have, centre::-1], ~mask[have, centre:]
        left[have] = np.where(to_left.any(axis=1), centre - to_left.argmax(axis=1) + 1, 0)
        right[have] = np.where(to_right.any(axis=1), centre + to_right.argmax(axis=1) - 1, size - 1)
        if have.any():
            idx = np.where(have, np.arange(size), size)
            nearest = np.minimum.accumulate(idx[::-1])[::-1]
            nearest = np.where(nearest < size, nearest, np.flatnonzero(have)[-1])
            left, right = left[nearest], right[nearest]
            # The garment's own centre line, for mirroring: the middle of its top (collar and
            # shoulders); the anchor is the middle of the whole outline, which a tie may widen.
            top = np.flatnonzero(cloth)[: max(1, round(SYMMETRY_TOP * height_px))]
            middle = float(np.median((outer_left[top] + outer_right[top]) / 2))
            alongside = _laid_sleeves(left, right, (outer_left, outer_right), have,
                                      (int(2 + TORSO_BAND[0] * height_px), int(top[0] + SLEEVE_LAID_CUFF * height_px)),
                                      middle, px_per_m)
            # Above the body of the garment, a run wider than the body is a sleeve joined to it
            # (dropped shoulders, sleeves spread wide): keep the torso's sides going straight up.
            body_rows = np.arange(int(2 + TORSO_BAND[0] * height_px), int(2 + TORSO_BAND[1] * height_px) + 1)
            body_rows = body_rows[have[np.clip(body_rows, 0, size - 1)]]
            if len(body_rows):
                # A T-shirt's sleeve may dip below the first body row, where the run goes on
                # through it: on each side, those rows too, down to the first at the body's width.
                step = SLEEVE_STEP_M * px_per_m
                for edge, outward in ((left, -1.0), (right, 1.0)):
                    side = outward * np.median(edge[body_rows])
                    wide = outward * edge[body_rows[0]:] > side + step
                    upper = np.arange(size) < body_rows[0] + (wide.argmin() if not wide.all() else 0)
                    edge[upper] = outward * np.minimum(outward * edge[upper], side)
        rows = np.arange(size)
        joined = (mask[rows, np.clip(left - 1, 0, size - 1).astype(int)]
                  | mask[rows, np.clip(right + 1, 0, size - 1).astype(int)])
        # A long sleeve hanging apart from the torso may reach below the hem's rows: the whole
        # piece is sleeve, or its cuff would be left behind when the sleeve turns.
        cols = np.arange(size)
        beside = (cols < left[:, None]) | (cols > right[:, None])
        pieces, _ = ndimage.label(mask & ~joined[:, None] & beside, structure=np.ones((3, 3)))
        high = rows < 2 + SLEEVE_ABOVE * height_px
        hanging = np.isin(pieces, _labels(pieces[high])) & ~high[:, None]
        # A sleeve is sewn on at the shoulder; cloth beside the torso that starts low (a strap or
        # a tie hanging from the hem, a flared hem's corner) stays with the torso. That cloth is
        # grown by two pixels, so a vertex on its outline that rounds to a pixel outside stays too.
        pieces, _ = ndimage.label(mask & beside, structure=np.ones((3, 3)))
        sewn = _labels(pieces[: int(2 + SLEEVE_STARTS_ABOVE * height_px)])
        low = (pieces > 0) & ~np.isin(pieces, sewn)
        limb = ~ndimage.binary_dilation(low, np.ones((3, 3), bool), iterations=2)
        return cls(left, right, have, joined, alongside, hanging, limb, outer_left, outer_right, px_per_m, x0,
                   y1, height)

    def width(self, band: tuple[float, float]) -> float:
        """Median torso width (m) over the rows in `band` (fractions of the height from the top)."""
        rows = np.arange(int(2 + band[0] * self.height * self.px_per_m),
                         int(2 + band[1] * self.height * self.px_per_m) + 1)
        rows = rows[self.have[rows]]
        if not len(rows):
            return (self.right.max() - self.left.min() + 1) / self.px_per_m
        return float(np.median(self.right[rows] - self.left[rows] + 1)) / self.px_per_m

    def _rows_cols(self, vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.clip(np.round((self.y1 - vertices[:, 1]) * self.px_per_m + 2).astype(int), 0, len(self.left) - 1)
        return rows, (vertices[:, 0] - self.x0) * self.px_per_m + 2

    def round_laid_sleeves(self, vertices: np.ndarray, least_radius: float = 0.0,
                           depth_scale: float = 1.0) -> np.ndarray:
        """A sleeve laid along the torso was inflated with it, as thick as the torso: once cut
        from it, it would be a flap. Give it a round section instead, as the tube it is: laid
        flat, its width w in a row (the torso's side to the outline) is half its girth, so the
        circle is 2w/π across, about its middle; its cap, the rows above, likewise. The circle
        is never narrower than `least_radius` (an arm must go in) nor wider than the flat width;
        `depth_scale` undoes the depth's own scale to come. Cloth is only ever flattened here."""
        out = vertices.copy()
        if not self.alongside.any():
            return out
        rows, cols = self._rows_cols(vertices)
        tube = self.alongside | (np.arange(len(self.left)) < np.argmax(self.alongside))  # with its cap
        for edge, outline, outward in ((self.right, self.outer_right, 1.0), (self.left, self.outer_left, -1.0)):
            start = edge[rows]
            width = outward * (outline[rows] - start)
            t = outward * (cols - start) / np.maximum(width, 1e-9)
            sleeve = tube[rows] & (t > 0) & (width > 2)  # t > 1: the outline's seam, depth 0
            flat_width = width[sleeve] / self.px_per_m
            radius = np.minimum(np.maximum(flat_width / np.pi, least_radius), flat_width / 2)
            t = np.clip(t[sleeve], 0.0, 1.0)
            middle = (start[sleeve] + outline[rows[sleeve]]) / 2
            out[sleeve, 0] += (middle - cols[sleeve]) / self.px_per_m + outward * (2 * t - 1) * radius
            depth = 2 * radius * np.sqrt(t * (1 - t)) * depth_scale
            out[sleeve, 2] = np.sign(out[sleeve, 2]) * np.minimum(np.abs(out[sleeve, 2]), depth)
        return out

    def sleeve_weight(self, vertices: np.ndarray, blend: float) -> np.ndarray:
        """How much each vertex belongs to a sleeve (0 torso … 1 sleeve), however the flat-lay
        photo spread or dropped it: cloth sideways outside the torso, in the upper part. Where the
        sleeve is joined to the torso the weight grows over `blend` (m) so the turn fades in across
        the shoulder; a sleeve hanging apart from the torso is all sleeve, so it turns as one piece."""
        rows, cols = self._rows_cols(vertices)
        out = np.maximum(np.maximum(cols - self.right[rows], self.left[rows] - cols), 0.0) / self.px_per_m
        apart = (out > 2.0 / self.px_per_m).astype(float)  # clear of the torso's edge, not a rounding
        weight = np.where(self.joined[rows] & ~self.alongside[rows], np.clip(out / blend, 0.0, 1.0), apart)
        pixel = rows, np.clip(np.round(cols).astype(int), 0, self.hanging.shape[1] - 1)
        upper = (self.y1 - vertices[:, 1]) < SLEEVE_ABOVE * self.height
        return weight * self.limb[pixel] * (upper | self.alongside[rows] | self.hanging[pixel])


def _labels(pieces: np.ndarray) -> np.ndarray:
    """The labelled pieces (non-zero labels) present in `pieces`."""
    return np.unique(pieces[pieces > 0])


def _laid_sleeves(left: np.ndarray, right: np.ndarray, outline: tuple[np.ndarray, np.ndarray], have: np.ndarray,
                  armpit_cuff: tuple[int, int], centre: float, px_per_m: float) -> np.ndarray:
    """Find sleeves laid along the torso (see FrontRuns): on each side, going up from the hem,
    the lowest step out of SLEEVE_STEP_M, with the torso's side going on below it (straight, or
    narrowing like a bodysuit's) that stays out up to the armpit row, SLEEVE_LAID_MIN_M below
    it at least; a long sleeve's, whose
    cuff (where the outline comes back in, the sleeve may part from the torso first) is below
    the cuff row: a T-shirt's sleeve, however low it dips, ends higher. Sleeves come in pairs:
    where only one side steps (the other sleeve touches the torso down to the hem), the other
    side counts only if the garment is symmetric there and its outline lies a step beyond the
    mirrored torso side; a bow, a tie or a wrap is not. Moves each side in,
    above its step (the mirrored side: all the way down), to where it was below it; returns the
    rows with a laid sleeve."""
    armpit, cuff_row = armpit_cuff
    rows = np.flatnonzero(have)
    rows = rows[rows >= armpit]
    laid = np.zeros(len(left), bool)
    rise, steady = max(1, round(SLEEVE_STEP_RISE_M * px_per_m)), round(SLEEVE_STEADY_M * px_per_m)
    step, shortest = SLEEVE_STEP_M * px_per_m, SLEEVE_LAID_MIN_M * px_per_m
    found = {}
    for edge, outer, outward in ((right, outline[1], 1.0), (left, outline[0], -1.0)):
        x = outward * edge[rows]  # larger is further out; rows go down the garment
        for k in np.flatnonzero(x[: len(x) - rise] - x[rise:] >= step)[::-1]:  # lowest step first
            base, below = x[k + rise], x[k + rise: k + rise + steady]
            if len(below) < steady or below.max() > base + step / 2:
                continue  # not a torso's side going on below it (a hem's rounded corner, a notch)
            sleeve_on = outward * outer[rows[k:]] >= base + step / 2
            cuff = rows[k + (np.argmin(sleeve_on) if not sleeve_on.all() else len(sleeve_on) - 1)]
            out_up = np.mean(x[: k + 1] >= base + step / 2)
            if rows[k] - armpit >= shortest and cuff >= cuff_row and out_up >= SLEEVE_OUT_SHARE:
                found[outward] = (rows[k + rise], base)  # out all the way up: a sleeve
                break
    if len(found) == 1:  # mirror the one found onto the other side, if the garment is symmetric
        (outward, (end, base)), = found.items()
        span = rows[rows < end]
        this, other = (right, left) if outward > 0 else (left, right)
        half_this = np.abs(this[span] - centre)
        half_other = np.abs(other[span] - centre)
        mirrored = base - outward * centre
        if (abs(np.median(half_this) - np.median(half_other)) <= step / 2
                and np.mean(half_other >= mirrored + step) >= SLEEVE_OUT_SHARE):
            # That sleeve may touch the torso further down, to the hem: moved in all the way.
            found[-outward] = (len(left), mirrored - outward * centre)
    if len(found) < 2:
        return laid
    for outward, (end, base) in found.items():
        edge = right if outward > 0 else left
        above = np.arange(len(left)) < end  # the cuff's rounded end included
        edge[above] = outward * np.minimum(outward * edge[above], base)
    laid[rows[0]:] = True  # down to the cuffs, which may hang below the torso's hem
    return laid


def place(garment: trimesh.Trimesh, category: str, body: BodyModel, ease: str = "regular") -> trimesh.Trimesh:
    """Scale and move a garment (glTF frame, origin at its anchor = top centre) onto the body.

    Tops, outerwear and dresses hang from the neck base and take the chest's width; bottoms hang
    from the waist and take the waist's width, widening below it where the hips need more. Depth
    is scaled so the body fits inside, the seat included where the garment reaches it. Then
    sleeves turn about the shoulders onto the arms and bend at the elbows onto the forearms,
    trouser legs turn about the hips onto the legs.
    """
    runs = FrontRuns.of(garment)
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
    garment_width = runs.width(band)
    s = np.clip(target / max(garment_width, 1e-6), 0.5, 2.0)
    widen, hips_down = (1.0, 1.0)
    if category == "bottom" and "hips_cm" in body.measurements:
        widen, hips_down = _passes_hips(runs, body, anchor_y, s)
    sy = min(s, (anchor_y - lowest_hem(category, body)) / max(runs.height, 1e-6))
    if "hips" in body.landmarks and anchor_y - runs.height * sy < body.point("hips")[1]:
        _, _, hz0, hz1 = body.torso_extent(body.point("hips")[1])  # the seat reaches further back
        z0, z1 = min(z0, hz0), max(z1, hz1)
    body_depth = z1 - z0
    garment_depth = float(np.ptp(flat[:, 2])) * s * widen
    sz = max(1.0, 1.08 * body_depth / max(garment_depth, 1e-6)) * s * widen
    if category != "bottom":  # in the garment's units, before it is scaled
        g.vertices = runs.round_laid_sleeves(flat, (body.arm_radius + SLEEVE_ROOM_M) / s, s / sz)
    centre = body.point("pelvis")
    transform = np.diag([s, sy, sz, 1.0])
    transform[:3, 3] = [centre[0], anchor_y, (z0 + z1) / 2]
    g.apply_transform(transform)
    if widen > 1.0:  # from the waistband, which stays the waist's size, out to the hips' width
        grow = 1.0 + (widen - 1.0) * np.clip(-flat[:, 1] / hips_down, 0.0, 1.0)
        g.vertices[:, 0] = centre[0] + (g.vertices[:, 0] - centre[0]) * grow
    if category == "bottom":
        g.vertices = _turn_limbs(g.vertices, body, "hip", "knee", along_x=False)
    else:
        sleeve = runs.sleeve_weight(flat, BLEND_M / s)
        g, sleeve = _cut_sleeves(g, sleeve)
        g.vertices = _turn_limbs(g.vertices, body, "shoulder", "elbow", along_x=True, sleeve=sleeve)
        g.vertices = _bend_at_elbows(g.vertices, body, sleeve)
    return g


def lowest_hem(category: str, body: BodyModel) -> float:
    """The lowest a garment's hem may hang, from the body's landmarks: a flat-lay photo's length,
    scaled with its width, is not the wearer's (trousers from real photos ran 0.4-0.8 m through the
    floor). A top ends just above the crotch, trousers at the ankles, a dress or a coat above the floor."""
    soles = float(body.mesh.bounds[0, 1])
    if category == "top" and "crotch" in body.landmarks:
        return float(body.point("crotch")[1]) + TOP_ABOVE_CROTCH_M
    ankles = [body.landmarks[k][1] for k in ("ankle_l", "ankle_r") if k in body.landmarks]
    if category == "bottom" and ankles:
        return max(float(np.mean(ankles)) - ANKLE_BELOW_M, soles + FLOOR_CLEAR_M)
    return soles + FLOOR_CLEAR_M


def _passes_hips(runs: FrontRuns, body: BodyModel, anchor_y: float, s: float) -> tuple[float, float]:
    """How much wider than its waist's scale a bottom must be at the hips to go over them (a
    narrow waist over wide hips, skinny jeans on a curvy body, would otherwise be stretched
    down the legs), and how far below the waistband (garment metres) the hips are. The garment
    widens from the waistband down to there, as jeans cut for hips do; its depth goes with it."""
    below = (anchor_y - body.point("hips")[1]) / s  # garment metres from the waistband down to the hips
    band = ((below - HIP_BAND_M / s) / runs.height, below / runs.height)
    need = body.measurements["hips_cm"] / 200.0 * EASE["tight"]
    return max(1.0, min(need / max(runs.width(band) * s, 1e-6), 2.0)), max(below, 1e-6)


def _cut_sleeves(g: trimesh.Trimesh, sleeve: np.ndarray) -> tuple[trimesh.Trimesh, np.ndarray]:
    """Faces from the torso to a sleeve that turns without it (a sleeve laid along the torso, or
    joined to it by a sliver in the photo) would stretch into a web under the arm: cut them."""
    torn = np.ptp(sleeve[g.faces], axis=1) > 0.5
    if not torn.any():
        return g, sleeve
    g.update_faces(~torn)
    used = np.zeros(len(g.vertices), bool)
    used[g.faces] = True
    g.update_vertices(used)
    return g, sleeve[used]


def _turn_limbs(v: np.ndarray, body: BodyModel, joint: str, next_joint: str, along_x: bool,
                sleeve: np.ndarray | None = None) -> np.ndarray:
    """Turn each side's limb part of the garment (sleeve or trouser leg) about the avatar's joint,
    in the frontal plane, so that its own axis (from its root by the joint to its far end)
    follows the avatar's limb, and shift it across so the limb runs down its middle; turn and
    shift fade in across the joint so the cloth does not tear at the armpit or crotch."""
    out = v.copy()
    for side, sign in (("l", 1.0), ("r", -1.0)):
        pivot = body.point(f"{joint}_{side}")[:2]
        limb = body.point(f"{next_joint}_{side}")[:2] - pivot
        limb = limb / max(float(np.linalg.norm(limb)), 1e-9)
        if along_x:  # sleeves: this side's cloth beyond the torso
            weight = sleeve * (sign * v[:, 0] > 0)
        else:  # legs: the part of this side below the crotch
            weight = np.clip((body.point("crotch")[1] - v[:, 1]) / BLEND_M + 0.5, 0.0, 1.0) * (sign * v[:, 0] > 0)
        part = weight > 0.99
        if part.sum() < 10:
            continue
        root, axis = _limb_axis(v[part, :2], pivot)
        angle = np.arctan2(limb[1], limb[0]) - np.arctan2(axis[1], axis[0])
        angle = (angle + np.pi) % (2 * np.pi) - np.pi
        turned_root = pivot + _rotate(root - pivot, angle)
        across = turned_root - pivot
        across = across - (across @ limb) * limb  # how far the turned root is off the limb's line
        moving = weight > 0
        w = weight[moving]
        turned = pivot + _rotate(v[moving, :2] - pivot, w * angle)
        out[moving, :2] = turned - w[:, None] * across
    return out


def _bend_at_elbows(v: np.ndarray, body: BodyModel, sleeve: np.ndarray) -> np.ndarray:
    """A sleeve turned onto the upper arm runs on straight past the elbow, but the avatar's
    forearms reach forward (in the A-pose the wrists are 15-20 cm in front of the elbows): bend
    the sleeve beyond each elbow onto its forearm, about the elbow, fading in over BLEND_M."""
    out = v.copy()
    for side, sign in (("l", 1.0), ("r", -1.0)):
        shoulder, elbow, wrist = (body.point(f"{j}_{side}") for j in ("shoulder", "elbow", "wrist"))
        upper, fore = elbow - shoulder, wrist - elbow
        upper, fore = upper / max(np.linalg.norm(upper), 1e-9), fore / max(np.linalg.norm(fore), 1e-9)
        hinge = np.cross(upper, fore)
        if np.linalg.norm(hinge) < 1e-6:
            continue  # a straight arm: nothing to bend
        angle = np.arctan2(np.linalg.norm(hinge), upper @ fore)
        hinge = hinge / np.linalg.norm(hinge)
        p = v - elbow
        bend = np.clip((p @ upper) / BLEND_M + 0.5, 0.0, 1.0) * sleeve * (sign * v[:, 0] > 0)
        moving = bend > 0
        out[moving] = elbow + _rotate_about(p[moving], hinge, bend[moving] * angle)
    return out


def _rotate_about(p: np.ndarray, axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Points (n, 3) turned about the unit `axis` through the origin by per-point angles (Rodrigues)."""
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    return p * c + np.cross(axis, p) * s + np.outer(p @ axis, axis) * (1 - c)


def _limb_axis(xy: np.ndarray, pivot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A limb part's root (the middle of its end by the joint) and its axis (root to far end).
    A long part's axis is its principal direction, wherever its root lies (a sleeve hanging down
    beside the torso); a short, wide one (a T-shirt's sleeve) points from the joint to its middle.
    The ends are slabs across the axis, so a corner is not taken for an end."""
    middle = xy.mean(axis=0)
    spread, directions = np.linalg.eigh(np.cov((xy - middle).T))
    axis = directions[:, 1] if spread[1] > LIMB_LONG * spread[0] else middle - pivot
    axis = axis * (1.0 if axis @ (middle - pivot) >= 0 else -1.0) / max(float(np.linalg.norm(axis)), 1e-12)
    along = (xy - pivot) @ axis
    near, far = np.quantile(along, [LIMB_END_SHARE, 1 - LIMB_END_SHARE])
    root = xy[along <= near].mean(axis=0)
    return root, xy[along >= far].mean(axis=0) - root


def _rotate(xy: np.ndarray, angle: np.ndarray | float) -> np.ndarray:
    """Points (…, 2) turned by `angle` (radians, per point or one) about the origin."""
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([c * xy[..., 0] - s * xy[..., 1], s * xy[..., 0] + c * xy[..., 1]], axis=-1)


def hug_weights(v: np.ndarray, category: str, band_m: float = 0.12) -> np.ndarray:
    """Where the garment should rest on the body: the shoulders of tops and dresses, the waistband
    of bottoms (1 at the top edge, fading out over `band_m`); elsewhere it hangs."""
    band = 0.06 if category == "bottom" else band_m
    return np.clip(1.0 - (v[:, 1].max() - v[:, 1]) / band, 0.0, 1.0)
