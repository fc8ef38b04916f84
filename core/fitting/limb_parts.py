"""A garment's sleeves and trouser legs on the body's limbs (core/fitting/limbs.py lays the
tubes): how far along its limb each part reaches, by its kind and the pattern's own length, and a
sleeve rebuilt as a tube of even cloth carrying the flat sleeve's paint (texture or colours)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh
from scipy.spatial import cKDTree

from core.fitting.body import BodyModel
from core.fitting.limbs import Chain, PartFrame, armhole, root_blend, tube, tube_coordinates, tube_grid, wrap
from core.garment.parse import GarmentParse
from core.garment.registry import PARTS

ANKLE_BELOW_M = 0.02  # the longest trousers hang: just past the ankle joint, well above the soles
ANKLE_ABOVE_M = 0.08  # the shortest long trousers end: this far above the ankle
# Sleeve length on the arm by kind, as shares of the upper arm (u) and forearm (f): (from, to).
SLEEVE_SPAN = {"cap": ((0.2, 0.0), (0.35, 0.0)), "short": ((0.5, 0.0), (0.85, 0.0)),
               "three_quarter": ((1.0, 0.4), (1.0, 0.9)), "long": ((1.0, 0.85), (1.0, 0.9))}

Tube = tuple[np.ndarray, np.ndarray, np.ndarray | None]  # vertices, faces, paint (see `paint_of`)


@dataclass(frozen=True)
class LimbPlacing:
    """What wrapping a garment's sleeves or legs reads: its parse (in the parse frame `uv`, its flat
    points `flat`, the pattern's landmarks and parts), the body, and the garment's scale (`scale`
    times the flat garment's `height` in metres)."""

    parse: GarmentParse
    uv: np.ndarray
    flat: np.ndarray
    points: dict[str, np.ndarray]
    parts: dict[str, np.ndarray]
    body: BodyModel
    scale: float
    height: float

    def place(self, v: np.ndarray, labels: np.ndarray, paint: tuple[np.ndarray | None, np.ndarray],
              edge: float) -> tuple[np.ndarray, list[Tube], np.ndarray]:
        """`v` with each sleeve or leg wrapped round its limb; the sleeves rebuilt as tubes (`paint`:
        what each point carries, `paint_of`, and which points face the front), and which points the
        tubes replace."""
        v = v.copy()
        sleeves: list[Tube] = []
        resampled = np.zeros(len(v), bool)
        for side, sign in (("l", 1.0), ("r", -1.0)):
            limb = "sleeve" if self.parse.shape == "bodice" else "leg"
            chosen = labels == PARTS.index(f"{limb}_{side}")
            if chosen.sum() < 4:
                continue
            part_uv = self.uv[chosen] * [sign, 1.0]
            depth = depth_side(self.flat[chosen, 2], part_uv)
            if limb == "sleeve":
                cuff = ("cuff_top", "cuff_bottom") if side == "l" else ("cuff_top_r", "cuff_bottom_r")
                q = self.points
                part = PartFrame((q["shoulder"] + q["armpit"]) / 2, (q[cuff[0]] + q[cuff[1]]) / 2, q["shoulder"],
                                 float(np.linalg.norm(q["shoulder"] - q["armpit"])),
                                 float(np.linalg.norm(q[cuff[0]] - q[cuff[1]])))
                chain = Chain(np.array([self.body.point(f"{j}_{side}") for j in ("shoulder", "elbow", "wrist")]))
                start, span = 0.0, sleeve_span(self.parse.kind, part, self.height * self.scale, chain)
                outward, root = np.array([sign, 0.5, 0.0]), armhole(self.body, chain.joints[0])
            else:
                part = leg_frame(self.parts["leg_l"])
                chain = Chain(np.array([self.body.point(f"{j}_{side}") for j in ("hip", "knee", "ankle")]))
                start, span = leg_span(self.parse.kind, part, self.height * self.scale, chain, self.body)
                outward, root = np.array([sign, 0.0, 0.0]), None
            tube = wrap(part, part_uv, depth, chain, start, span, self.scale, self.height, outward, self.body, root)
            if root is None:  # a leg grows out of the seat's cloth
                t, _ = part.coordinates(part_uv)
                w = root_blend(t, span)[:, None]
                tube = (1 - w) * v[chosen] + w * tube
            v[chosen] = tube
            if limb == "sleeve":
                carried, facing = paint
                own = (None if carried is None else carried[chosen], facing[chosen])
                sleeves.append(sleeve_tube(part, part_uv, depth, own,
                                           (chain, span, self.scale, self.height, outward, root), self.body, edge))
                resampled |= chosen
        return v, sleeves, resampled


def sleeve_tube(part: PartFrame, part_uv: np.ndarray, depth: np.ndarray, paint: tuple[np.ndarray | None, np.ndarray],
                how: tuple, body: BodyModel, edge: float) -> Tube:
    """A sleeve as a tube of even cloth round the arm, (vertices, faces, texture coordinates): the
    flat sleeve's own cloth wrapped round the arm stretched wherever the photo shows only part of
    its width (a sleeve laid down beside the body lies half over it: the strip beside the torso,
    narrow under the shoulder, was torn open there and left the upper arm bare; a bare or painted
    mesh's sleeve, kept, tore from the torso at its root). Each point of the tube takes the paint
    of the flat sleeve's point nearest in (along, round) on its side: `paint` is the points' paint
    (`paint_of`; None: there is none) and whether they face the front, and the front
    sheet takes only the front's, the back sheet the back's (a face across the two would stretch
    over the texture between them where the front's and the back's are apart; along the outline
    a front and a back point lie at one place)."""
    chain, span, scale, height, outward, root = how
    t0, a0 = tube_coordinates(part, part_uv, depth)
    radius = max(float(part.width(np.array([0.5]))[0]) * height * scale / np.pi, 0.03)
    columns = int(np.clip(np.ceil(np.pi * radius / edge) + 1, 5, 40))
    rows = int(np.clip(np.ceil(span / edge) + 1, 4, 160))
    t, a, faces = tube_grid(rows, columns)
    vertices = tube(part, t, a, chain, 0.0, span, scale, height, outward, body, root)
    carried, facing = paint
    if carried is None:
        return vertices, faces, None
    stretch = span / radius  # along in radii against round in radians: the same metres
    nearest = np.zeros(len(t), np.int64)
    back = np.arange(len(t)) >= len(t) // 2  # tube_grid's second sheet
    for sheet, own in ((~back, facing), (back, ~facing)):  # never the other side's texture
        pool = np.flatnonzero(own) if own.any() else np.arange(len(t0))
        _, k = cKDTree(np.column_stack([t0[pool] * stretch, a0[pool]])).query(
            np.column_stack([t[sheet] * stretch, a[sheet]]))
        nearest[sheet] = pool[k]
    return vertices, faces, carried[nearest]


def paint_of(g: trimesh.Trimesh) -> np.ndarray | None:
    """What each vertex carries that a sleeve's tube takes over: its texture coordinates, or its
    colours (per vertex; a mesh coloured per face as its vertices show it); None for a bare mesh."""
    if isinstance(g.visual, trimesh.visual.TextureVisuals):
        return None if g.visual.uv is None else np.asarray(g.visual.uv)
    return np.asarray(g.visual.vertex_colors) if g.visual.kind in ("vertex", "face") else None


def with_tubes(g: trimesh.Trimesh, tubes: list[Tube]) -> trimesh.Trimesh:
    """The garment with the tubes added, its paint (`paint_of`), material and metadata kept."""
    carried = paint_of(g)
    vertices, faces, paint = [g.vertices], [g.faces], [carried]
    count = len(g.vertices)
    for v, f, own in tubes:
        vertices.append(v)
        faces.append(f + count)
        paint.append(own)
        count += len(v)
    visual = None
    if isinstance(g.visual, trimesh.visual.TextureVisuals):
        uv = None if carried is None else np.concatenate(paint)
        visual = trimesh.visual.TextureVisuals(uv=uv, material=g.visual.material)
    elif carried is not None:
        visual = trimesh.visual.ColorVisuals(vertex_colors=np.concatenate(paint))
    out = trimesh.Trimesh(np.concatenate(vertices), np.concatenate(faces), visual=visual, process=False)
    out.metadata.update(g.metadata)
    return out


def depth_side(z: np.ndarray, uv: np.ndarray, bins: int = 6) -> np.ndarray:
    """Front (> 0) or back (< 0) of a part's points: their depth against the part's middle depth
    along it (imported sleeves are tubes whose middle need not be at z = 0)."""
    along = uv[:, 1]
    edges = np.quantile(along, np.linspace(0, 1, bins + 1)[1:-1])
    which = np.searchsorted(edges, along)
    middle = np.array([np.median(z[which == k]) if (which == k).any() else 0.0 for k in range(bins)])
    return z - middle[which]


def sleeve_span(kind: str, part: PartFrame, metres: float, chain: Chain) -> float:
    """The sleeve's length on the arm: the pattern's, within its kind's span of the arm. The
    pattern's is measured as the tube is laid, from the root's nearer end (PartFrame.coordinates):
    from its armhole's middle, a sleeve laid down beside the body (its armhole running down its
    side) would end half an armhole short of its cuff."""
    upper, fore = chain.lengths
    axis = part.end - part.root
    length = float(np.linalg.norm(axis))
    own = (length + abs(float((part.top - part.root) @ axis)) / max(length, 1e-9)) * metres
    (u0, f0), (u1, f1) = SLEEVE_SPAN.get(kind, SLEEVE_SPAN["short"])
    return float(np.clip(own, u0 * upper + f0 * fore, u1 * upper + f1 * fore))


def leg_frame(leg: np.ndarray) -> PartFrame:
    """A trouser leg's frame, from its part (crotch, side at the crotch's height, outer hem, inner
    hem, fork, ...): from the middle of the crotch line's half to the middle of its hem. Legs laid
    together down to near their hems (the fork, where they part, below half the inseam) are as
    wide as from the centre line out: the notch between them under the fork is not their width."""
    crotch, side, out, inner, fork = leg[:5]
    laid_together = fork[1] - crotch[1] > 0.5 * (inner[1] - crotch[1])
    width = float(out[0] - fork[0]) if laid_together else float(np.linalg.norm(out - inner))
    return PartFrame((crotch + side) / 2, (out + inner) / 2, side, float(side[0] - crotch[0]), width)


def leg_span(kind: str, part: PartFrame, metres: float, chain: Chain, body: BodyModel) -> tuple[float, float]:
    """Where a leg starts along the leg's bones (at the crotch's height) and how long it runs: the
    pattern's length, long trousers ending within ANKLE_ABOVE_M above the ankle and at most
    ANKLE_BELOW_M past it, shorts between the crotch and above the knee."""
    thigh, shin = chain.lengths
    d1 = (chain.joints[1] - chain.joints[0]) / max(thigh, 1e-9)
    d2 = (chain.joints[2] - chain.joints[1]) / max(shin, 1e-9)
    start = max(0.0, float(chain.joints[0][1] - body.point("crotch")[1]) / max(-d1[1], 1e-3))
    own = float(np.linalg.norm(part.end - part.root)) * metres
    if kind == "long":
        lo, hi = thigh + shin - ANKLE_ABOVE_M / max(-d2[1], 1e-3), thigh + shin + ANKLE_BELOW_M / max(-d2[1], 1e-3)
    else:
        lo, hi = start + 0.08, thigh - 0.04
    return start, float(np.clip(start + own, lo, max(lo, hi))) - start
