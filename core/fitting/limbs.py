"""Sleeves and trouser legs built round the body's own limbs: each part of the flat garment (a
sleeve, a leg) is read in its own frame (how far along it, where across it, front or back) and
wrapped as a tube round the posed bone chain it is made for (shoulder -> elbow -> wrist, hip ->
knee -> ankle), bending where the limb bends; its girth is the flat width doubled, never less
than the limb's own. No rule over pixel runs: the parse's pattern says where each part is."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.fitting.body import BodyModel

ROOM_M = 0.02  # the least a tube clears its limb by, all round (before the clearance's offset)
BELL_M = 0.05  # the most a tube stands off its limb beyond that (a bell sleeve's cuff, wide trousers)
LIMB_GIRTH = 1.35  # a limb's widest radius for its nearest-skin distance (arms and legs are not round)
REACH_STATIONS, REACH_RAYS = 24, 16  # where along a tube, and how many rays round, the limb's reach is measured
REACH_MAX = 2.2  # the farthest skin counted across a bone, over its nearest
BEND_M = 0.12  # the tube turns from one bone to the next over this far round the joint
ROOT_BLEND_M = 0.03  # from the garment's body into the tube over this far along it


@dataclass(frozen=True)
class PartFrame:
    """A flat part's own frame, in the parse frame (x across, y down, in heights): from the middle
    of its root (armhole or crotch line) to the middle of its end (cuff or leg hem), and its width
    at both ends. Points get how far along it (0 at the root's nearer end, 1 at the end) and where across
    (-0.5 .. 0.5, +0.5 at the `top` side: a sleeve's upper edge, a leg's outer side)."""

    root: np.ndarray
    end: np.ndarray
    top: np.ndarray  # a point on the top edge at the root
    root_width: float
    end_width: float

    def coordinates(self, uv: np.ndarray, bins: int = 8) -> tuple[np.ndarray, np.ndarray]:
        """How far along (t) and where across (-0.5 .. 0.5) each of the part's points lies. Across
        is measured against the points' own extent at their t (in `bins` slices): the cloth's
        outline, smoothed, is not the pattern's straight edges, and a point past the pattern's edge
        would fold over the tube's seam."""
        axis = self.end - self.root
        length = max(float(np.linalg.norm(axis)), 1e-9)
        along_dir = axis / length
        across_dir = np.array([-along_dir[1], along_dir[0]])
        if (self.top - self.root) @ across_dir < 0:
            across_dir = -across_dir
        rel = uv - self.root
        across = rel @ across_dir
        # Along from the root's nearer end to the end: an armhole slants from the shoulder point
        # down to the armpit, and a sleeve laid down beside the body begins at the shoulder, its
        # armhole running down its side; measured from the armhole's middle, its top would fold.
        start = -abs(float((self.top - self.root) @ along_dir))
        t = (rel @ along_dir - start) / (length - start)
        # the extent per slice, interpolated between the slices' middles (read slice by slice,
        # the cloth would jump at each slice's edge and show as rings)
        edges = np.quantile(t, np.linspace(0, 1, bins + 1))
        which = np.clip(np.searchsorted(edges[1:-1], t), 0, bins - 1)
        lo = np.full(bins, np.inf)
        hi = np.full(bins, -np.inf)
        np.minimum.at(lo, which, across)
        np.maximum.at(hi, which, across)
        filled = np.isfinite(lo)
        middles = ((edges[:-1] + edges[1:]) / 2)[filled]
        lo_t, hi_t = np.interp(t, middles, lo[filled]), np.interp(t, middles, hi[filled])
        return t, np.clip((across - (lo_t + hi_t) / 2) / np.maximum(hi_t - lo_t, 1e-9), -0.5, 0.5)

    def width(self, t: np.ndarray) -> np.ndarray:
        return self.root_width + np.clip(t, 0.0, 1.0) * (self.end_width - self.root_width)


@dataclass(frozen=True)
class Chain:
    """A posed limb: its three joints, the lengths of its two bones."""

    joints: np.ndarray  # (3, 3)

    @property
    def lengths(self) -> tuple[float, float]:
        a, b = np.linalg.norm(np.diff(self.joints, axis=0), axis=1)
        return float(a), float(b)

    def at(self, ell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points at arc length `ell` from the first joint (on past the last, straight on), and the
        limb's direction there. Round the middle joint the chain is a curve (a quadratic Bezier over
        BEND_M): a tube bent at a sharp corner would fold into the limb on the inside of the bend."""
        first, second = self.lengths
        d1 = (self.joints[1] - self.joints[0]) / max(first, 1e-9)
        d2 = (self.joints[2] - self.joints[1]) / max(second, 1e-9)
        ell = np.asarray(ell, float)
        point = np.where((ell < first)[:, None], self.joints[0] + ell[:, None] * d1,
                         self.joints[1] + (ell - first)[:, None] * d2)
        direction = np.where((ell < first)[:, None], d1, d2)
        h = min(BEND_M / 2, first / 2, second / 2)
        bend = np.abs(ell - first) < h
        if bend.any():
            u = ((ell[bend] - first + h) / (2 * h))[:, None]
            p0, p1, p2 = self.joints[1] - h * d1, self.joints[1], self.joints[1] + h * d2
            point[bend] = (1 - u) ** 2 * p0 + 2 * u * (1 - u) * p1 + u**2 * p2
            direction[bend] = 2 * (1 - u) * (p1 - p0) + 2 * u * (p2 - p1)
        return point, direction / np.linalg.norm(direction, axis=1, keepdims=True)


def limb_radius(body: BodyModel, points: np.ndarray) -> np.ndarray:
    """The limb's widest radius round each bone point: its nearest skin, widened by LIMB_GIRTH."""
    distance, _ = body.surface.tree.query(points, workers=-1)
    return distance * LIMB_GIRTH


def limb_section(body: BodyModel, chain: Chain, ell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The limb's cross-section across the bone at each arc length `ell`: its middle's offset from
    the bone and the radius round that middle that holds all of it. A limb is not round about
    its bone (the calf lies behind the shin bone, the thigh's flesh inside the femur): a tube round
    the bone as wide as its nearest skin's LIMB_GIRTH is pushed out over the calf and stretched.
    Rays cast across the bone at REACH_STATIONS stations, REACH_RAYS round each, meet the skin;
    each no farther than REACH_MAX of the nearest skin (near the body a ray may leave the limb
    into the torso or the other leg). The radius is never less than limb_radius's."""
    if not len(ell):
        return np.zeros((0, 3)), np.zeros(0)
    stations = np.linspace(float(ell.min()), float(ell.max()), REACH_STATIONS)
    centre, direction = chain.at(stations)
    nearest, _ = body.surface.tree.query(centre, workers=-1)
    side = np.cross(direction, [0.0, 0.0, 1.0])
    along_z = np.linalg.norm(side, axis=1) < 1e-6  # a limb pointing straight ahead
    side[along_z] = np.cross(direction[along_z], [1.0, 0.0, 0.0])
    side /= np.linalg.norm(side, axis=1, keepdims=True)
    forward = np.cross(direction, side)
    turn = np.linspace(0.0, 2 * np.pi, REACH_RAYS, endpoint=False)
    rays = (np.cos(turn)[None, :, None] * side[:, None, :] + np.sin(turn)[None, :, None] * forward[:, None, :])
    origins = np.repeat(centre, REACH_RAYS, axis=0)
    hits, ray, _ = body.mesh.ray.intersects_location(origins, rays.reshape(-1, 3), multiple_hits=False)
    far = np.full(len(origins), np.inf)
    far[ray] = np.linalg.norm(hits - origins[ray], axis=1)
    far = np.minimum(far, np.repeat(nearest * REACH_MAX, REACH_RAYS))
    # the section's middle: its extent's, across and front to back (the rays' mean would lean to
    # where they meet the skin densest, the side nearest the bone)
    far = far.reshape(-1, REACH_RAYS)
    across, ahead = far * np.cos(turn), far * np.sin(turn)
    mid_across = (across.max(axis=1) + across.min(axis=1)) / 2
    mid_ahead = (ahead.max(axis=1) + ahead.min(axis=1)) / 2
    reach = np.hypot(across - mid_across[:, None], ahead - mid_ahead[:, None]).max(axis=1)
    radius = np.maximum(reach, nearest * LIMB_GIRTH)
    offset = mid_across[:, None] * side + mid_ahead[:, None] * forward
    return (np.column_stack([np.interp(ell, stations, offset[:, k]) for k in range(3)]),
            np.interp(ell, stations, radius))


@dataclass(frozen=True)
class Loop:
    """Where a part's root sits on the body when it is not a section of the limb: an armhole, a
    loop in the upright plane from the top of the shoulder down to the armpit, round the arm's root."""

    centre: np.ndarray
    up: float  # half its height
    deep: float  # half its depth

    @property
    def top(self) -> float:
        return float(self.centre[1] + self.up)

    def at(self, cos_angle: np.ndarray, sin_angle: np.ndarray) -> np.ndarray:
        return self.centre + np.column_stack([np.zeros_like(cos_angle), self.up * cos_angle, self.deep * sin_angle])


def armhole(body: BodyModel, shoulder: np.ndarray, room: float = ROOM_M) -> Loop:
    """The armhole round a shoulder joint: from above the shoulder (its skin plus `room`) down to
    the armpit (the chest's height), as deep as the upper arm."""
    top = shoulder[1] + float(limb_radius(body, shoulder[None])[0]) / LIMB_GIRTH + room
    bottom = float(body.point("chest")[1]) if "chest" in body.landmarks else shoulder[1] - 0.1
    elbow_side = np.array([shoulder[0] * 1.3, shoulder[1] - 0.05, shoulder[2]])
    deep = float(limb_radius(body, elbow_side[None])[0]) + room
    return Loop(np.array([shoulder[0], (top + bottom) / 2, shoulder[2]]), (top - bottom) / 2, deep)


def wrap(part: PartFrame, uv: np.ndarray, depth: np.ndarray, chain: Chain, start: float, length: float,
         scale: float, height: float, outward: np.ndarray, body: BodyModel, root: Loop | None = None) -> np.ndarray:
    """A part's points wrapped round a limb: along it from arc length `start` for `length` (m);
    round it at the radius of the flat width's half-girth (`scale` x `height` metres per parse
    unit), or the limb's radius and ROOM_M, whichever is more. `depth` > 0 is the front sheet,
    < 0 the back; `outward` is the side the part's top edge goes to (up and out for a sleeve).
    With a `root` loop, the part starts on it and turns into the limb's sections over ROOT_BLEND_M."""
    t, angle = tube_coordinates(part, uv, depth)
    return tube(part, t, angle, chain, start, length, scale, height, outward, body, root)


def tube_coordinates(part: PartFrame, uv: np.ndarray, depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of a flat part's points goes on its tube: how far along (t, 0 .. 1 over the
    cloth's own length) and the angle round it (0 at the top edge, pi at the bottom edge, the
    front sheet (`depth` > 0) through pi/2, the back through -pi/2)."""
    t, across = part.coordinates(uv)
    # The cloth's own end is its cuff: where the pattern's runs past the silhouette (a sleeve laid
    # down beside the body to below the hem), the part's length is the cloth's.
    t = t / min(max(float(np.quantile(t, 0.995)), 0.3), 1.0)
    angle = np.arccos(np.clip(2 * across, -1.0, 1.0))
    return t, np.where(depth >= 0, angle, -angle)


def tube(part: PartFrame, t: np.ndarray, angle: np.ndarray, chain: Chain, start: float, length: float,
         scale: float, height: float, outward: np.ndarray, body: BodyModel, root: Loop | None = None) -> np.ndarray:
    """Points of a part's tube round the limb at (t, angle) (tube_coordinates; see wrap)."""
    ell = start + np.clip(t, 0.0, 1.0) * length  # past its end (a slanted hem's corner): on its end ring
    centre, direction = chain.at(ell)
    side = outward - (direction @ outward)[:, None] * direction  # across the limb, toward `outward`
    side /= np.maximum(np.linalg.norm(side, axis=1, keepdims=True), 1e-9)
    forward = np.cross(direction, side)
    forward *= np.where(forward[:, 2] < 0, -1.0, 1.0)[:, None]
    offset, limb = limb_section(body, chain, ell)
    # The flat width doubled is the girth; a bell sleeve's may be wider, but within BELL_M of the limb.
    radius = np.clip(part.width(t) * height * scale / np.pi, limb + ROOM_M, limb + ROOM_M + BELL_M)
    cos_angle, sin_angle = np.cos(angle), np.sin(angle)
    out = centre + offset + radius[:, None] * (cos_angle[:, None] * side + sin_angle[:, None] * forward)
    if root is None:
        return out
    w = root_blend(t, length)[:, None]
    return (1 - w) * root.at(cos_angle, sin_angle) + w * out


def tube_grid(rows: int, columns: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A tube as two sheets, front (angles 0 .. pi) and back (0 .. -pi), each `rows` x `columns`
    vertices: their (t, angle) and triangles. The sheets meet along the top and bottom edges
    with vertices of their own, as the flat garment's front and back do, so that each takes its
    own side's texture."""
    t, a = np.meshgrid(np.linspace(0.0, 1.0, rows), np.linspace(0.0, np.pi, columns), indexing="ij")
    t, a = np.concatenate([t.ravel(), t.ravel()]), np.concatenate([a.ravel(), -a.ravel()])
    i, j = np.meshgrid(np.arange(rows - 1), np.arange(columns - 1), indexing="ij")
    corner = (i * columns + j).ravel()
    quads = np.stack([corner, corner + columns, corner + columns + 1, corner + 1], axis=1)
    front = np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])
    back = front[:, ::-1] + rows * columns  # the mirrored sheet turns the other way: outward too
    return t, a, np.concatenate([front, back])


def root_blend(t: np.ndarray, length: float) -> np.ndarray:
    """0 at a part's root, 1 from ROOT_BLEND_M along it: how much of the tube a point takes."""
    x = np.clip(t * length / ROOT_BLEND_M, 0.0, 1.0)
    return x * x * (3 - 2 * x)
