"""Where a garment goes on the body, part by part, from its parse (core/garment): the garment's
body (torso, seat) is scaled to the body's girth and hung from its anchor (the neck's base, the
waist); sleeves and trouser legs are wrapped round the posed arms and legs (core/fitting/limbs.py);
a skirt is opened into a cone clear of the legs. Lengths come from the pattern, bounded by the
body's landmarks, never from the width's scale."""

from __future__ import annotations

import numpy as np
import trimesh
from scipy.spatial import cKDTree

from core.fitting.body import BodyModel
from core.fitting.limbs import Chain, PartFrame, armhole, root_blend, tube, tube_coordinates, tube_grid, wrap
from core.fitting.openings import TRUNK_EXITS, cap_faces
from core.fitting.torso import wrap_body
from core.garment.frames import MeshFrame
from core.garment.parse import GarmentParse, parse_mask, part_labels
from core.garment.patterns import SHAPES
from core.garment.registry import PARTS, REGISTRY
from core.mesh.importer import front_mask

# Ease over the body's flat half-girth: how much wider than the body the garment is cut.
EASE = {"tight": 1.02, "regular": 1.10, "loose": 1.22}
TOP_ABOVE_CROTCH_M = 0.02  # the longest a top hangs: its hem just above the crotch
ANKLE_BELOW_M = 0.02  # the longest trousers hang: just past the ankle joint, well above the soles
ANKLE_ABOVE_M = 0.08  # the shortest long trousers end: this far above the ankle
FLOOR_CLEAR_M = 0.03  # a dress or a long coat ends at least this far above the floor
TEAR = 3.0  # a face placing stretches more than this is torn out (parts sewn apart) ...
TEAR_MIN_M = 0.04  # ... when its edge ends longer than this
FEET_CLEAR_M = 0.03  # ... and this far above the ankle joints, clear of the feet
# Sleeve length on the arm by kind, as shares of the upper arm (u) and forearm (f): (from, to).
SLEEVE_SPAN = {"cap": ((0.2, 0.0), (0.35, 0.0)), "short": ((0.5, 0.0), (0.85, 0.0)),
               "three_quarter": ((1.0, 0.4), (1.0, 0.9)), "long": ((1.0, 0.85), (1.0, 0.9))}


def place(garment: trimesh.Trimesh, category: str, body: BodyModel, ease: str = "regular",
          parse: GarmentParse | None = None, closed: bool = False) -> tuple[trimesh.Trimesh, int]:
    """Scale and move a garment (glTF frame, origin at its anchor = top centre) onto the body;
    returns it and how many caps were cut from it.

    Tops, outerwear and dresses hang from the neck base and take the chest's width; bottoms hang
    from the waist and take the waist's width, widening below it where the hips need more. Depth
    is scaled so the body fits inside, the seat included where the garment reaches it. Then each
    sleeve and leg is wrapped round its limb, and a skirt opened clear of the legs. A `closed`
    garment (openings.is_closed) loses its caps across the body's exits: those of the neck and the
    hem or waist as it hangs straight, those of the cuffs and leg ends once wrapped."""
    mask = front_mask(garment)
    parse = parse or parse_mask(mask, category)
    frame = MeshFrame.of(garment, mask, parse.tilt)
    flat = np.asarray(garment.vertices)
    uv = frame.to_parse(flat)
    labels = part_labels(parse, uv)
    shape = SHAPES[parse.shape]
    points, parts = shape.points(parse.x), shape.parts(parse.x)
    height = frame.height
    limbs = np.isin(labels, [PARTS.index(p) for p in ("sleeve_l", "sleeve_r", "leg_l", "leg_r")])
    # its length, hem to top: the cloth's own (outside its sleeves and legs, placed on their own)
    length = frame.top_y - float(flat[~limbs, 1].min() if (~limbs).any() else flat[:, 1].min())
    if parse.shape == "bodice":
        ref_name, anchor_y = "chest", body.neck_base_y + 0.01
        garment_width = 2 * points["armpit"][0] * height
    else:
        ref_name, anchor_y = "waist", body.point("waist")[1] + 0.02
        garment_width = 2 * points["waist"][0] * height
    x0, x1, z0, z1 = body.torso_extent(body.point(ref_name)[1])
    girth_key = "waist_cm" if ref_name == "waist" else "chest_cm"
    half_girth = body.measurements.get(girth_key, 200 * (x1 - x0)) / 200.0
    target = half_girth * EASE[ease] * REGISTRY[category].ease
    s = float(np.clip(target / max(garment_width, 1e-6), 0.5, 2.0))
    sy = min(s, (anchor_y - lowest_hem(category, body)) / max(length, 1e-6))
    if "hips" in body.landmarks and anchor_y - length * sy < body.point("hips")[1]:
        _, _, hz0, hz1 = body.torso_extent(body.point("hips")[1])  # the seat reaches further back
        z0, z1 = min(z0, hz0), max(z1, hz1)
    garment_depth = float(np.ptp(flat[:, 2])) * s
    sz = max(1.0, 1.08 * (z1 - z0) / max(garment_depth, 1e-6)) * s
    centre = body.point("pelvis")
    transform = np.diag([s, sy, sz, 1.0])
    transform[:3, 3] = [centre[0] - frame.centre_x * s, anchor_y - frame.top_y * sy, (z0 + z1) / 2]
    g = garment.copy()
    g.apply_transform(transform)
    texture = getattr(g.visual, "uv", None) if isinstance(g.visual, trimesh.visual.TextureVisuals) else None
    edge = float(np.median(g.edges_unique_length)) if len(g.faces) else 0.01  # the cloth's own resolution
    sleeves: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    resampled = np.zeros(len(g.vertices), bool)
    caps, openings = cap_faces(g, body, TRUNK_EXITS) if closed else (None, 0)
    v = g.vertices.copy()
    if parse.shape == "bodice":
        v = _slope_shoulders(v, points, body, centre[0], (s * height, sy * height, anchor_y), parse.kind != "none")
    hangs = (labels == PARTS.index("skirt")) | (parse.shape == "skirt")
    # the garment's body is a tube below its armholes; a sleeved bodice's shoulders go out to the
    # armholes, where the sleeves are sewn on; a sleeveless one's straps keep their own width
    fills = np.ones(len(v), bool)
    if parse.shape == "bodice" and parse.kind == "none":
        fills = v[:, 1] <= anchor_y - points["armpit"][1] * sy * height
    v = wrap_body(v, ~limbs, hangs, body, float(centre[0]), fills)
    for side, sign in (("l", 1.0), ("r", -1.0)):
        limb = "sleeve" if parse.shape == "bodice" else "leg"
        chosen = labels == PARTS.index(f"{limb}_{side}")
        if chosen.sum() < 4:
            continue
        part_uv = uv[chosen] * [sign, 1.0]
        depth = _depth_side(flat[chosen, 2], part_uv)
        if limb == "sleeve":
            cuff = ("cuff_top", "cuff_bottom") if side == "l" else ("cuff_top_r", "cuff_bottom_r")
            part = PartFrame((points["shoulder"] + points["armpit"]) / 2, (points[cuff[0]] + points[cuff[1]]) / 2,
                             points["shoulder"], float(np.linalg.norm(points["shoulder"] - points["armpit"])),
                             float(np.linalg.norm(points[cuff[0]] - points[cuff[1]])))
            chain = Chain(np.array([body.point(f"{j}_{side}") for j in ("shoulder", "elbow", "wrist")]))
            start, span = 0.0, _sleeve_span(parse.kind, part, height * s, chain)
            outward, root = np.array([sign, 0.5, 0.0]), armhole(body, chain.joints[0])
        else:
            part = _leg_frame(parts["leg_l"])
            chain = Chain(np.array([body.point(f"{j}_{side}") for j in ("hip", "knee", "ankle")]))
            start, span = _leg_span(parse.kind, part, height * s, chain, body)
            outward, root = np.array([sign, 0.0, 0.0]), None
        tube = wrap(part, part_uv, depth, chain, start, span, s, height, outward, body, root)
        if root is None:  # a leg grows out of the seat's cloth
            t, _ = part.coordinates(part_uv)
            w = root_blend(t, span)[:, None]
            tube = (1 - w) * v[chosen] + w * tube
        v[chosen] = tube
        if limb == "sleeve" and texture is not None:
            facing = g.vertex_normals[chosen, 2] >= 0  # which side's texture each point carries
            sleeves.append(_sleeve_tube(part, part_uv, depth, (texture[chosen], facing),
                                        (chain, span, s, height, outward, root), body, edge))
            resampled |= chosen
    g.vertices = v
    if closed:
        caps, more = cap_faces(g, body, found=caps)
        if more or openings:
            g.update_faces(~caps)  # vertices kept: `flat` still indexes them
            openings += more
    if resampled.any():  # the sleeves' own cloth gives way to their tubes
        g.update_faces(~resampled[g.faces].any(axis=1))
    g = _tear(g, flat, s)
    return (_with_tubes(g, sleeves) if sleeves else g), openings


def _sleeve_tube(part: PartFrame, part_uv: np.ndarray, depth: np.ndarray, texture: tuple[np.ndarray, np.ndarray],
                 how: tuple, body: BodyModel, edge: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A sleeve as a tube of even cloth round the arm, (vertices, faces, texture coordinates): the
    flat sleeve's own cloth wrapped round the arm stretched wherever the photo shows only part of
    its width (a sleeve laid down beside the body lies half over it: the strip beside the torso,
    narrow under the shoulder, was torn open there and left the upper arm bare). Each point of
    the tube takes the texture of the flat sleeve's point nearest in (along, round) on its side:
    `texture` is the points' texture coordinates and whether they face the front, and the front
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
    stretch = span / radius  # along in radii against round in radians: the same metres
    nearest = np.zeros(len(t), np.int64)
    back = np.arange(len(t)) >= len(t) // 2  # tube_grid's second sheet
    uv, facing = texture
    for sheet, own in ((~back, facing), (back, ~facing)):  # never the other side's texture
        pool = np.flatnonzero(own) if own.any() else np.arange(len(t0))
        _, k = cKDTree(np.column_stack([t0[pool] * stretch, a0[pool]])).query(
            np.column_stack([t[sheet] * stretch, a[sheet]]))
        nearest[sheet] = pool[k]
    return vertices, faces, uv[nearest]


def _with_tubes(g: trimesh.Trimesh, tubes: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> trimesh.Trimesh:
    """The garment with the tubes added, its texture and metadata kept."""
    vertices, faces, uv = [g.vertices], [g.faces], [g.visual.uv]
    count = len(g.vertices)
    for v, f, tex in tubes:
        vertices.append(v)
        faces.append(f + count)
        uv.append(tex)
        count += len(v)
    visual = trimesh.visual.TextureVisuals(uv=np.concatenate(uv), material=g.visual.material)
    out = trimesh.Trimesh(np.concatenate(vertices), np.concatenate(faces), visual=visual, process=False)
    out.metadata.update(g.metadata)
    return out


def _tear(g: trimesh.Trimesh, flat: np.ndarray, scale: float) -> trimesh.Trimesh:
    """Faces that placing stretched more than TEAR times (a face joining a sleeve's root to the
    torso's side under the arm, the legs' inner seams at the crotch) would hang as a web between
    the parts and cut through the body: cut them, as the parts are sewn apart."""
    tri = g.faces
    placed = np.linalg.norm(g.vertices[tri] - g.vertices[np.roll(tri, 1, axis=1)], axis=2)
    before = np.linalg.norm(flat[tri] - flat[np.roll(tri, 1, axis=1)], axis=2) * scale
    torn = (placed > np.maximum(TEAR * before, TEAR_MIN_M)).any(axis=1)  # a sliver's short edge may grow
    if torn.any():
        g.update_faces(~torn)
    g.remove_unreferenced_vertices()  # and those of caps cut before
    return g


def _slope_shoulders(v: np.ndarray, points: dict[str, np.ndarray], body: BodyModel, centre_x: float,
                     scale: tuple[float, float, float], sleeved: bool) -> np.ndarray:
    """A bodice's shoulder point is sewn to the sleeve's armhole, which sits round the body's
    shoulder joint (limbs.armhole); a flat garment's shoulder line is near level and, scaled to
    the chest, can end past the body's shoulder. Bring the bodice above its armpits to it: the
    shoulder point in (or, `sleeved`, out) to the joint and down to the armhole's top, the neck
    where it is, fading out towards the armpits."""
    across, down, anchor_y = scale
    neck_x, shoulder_x = points["neck"][0] * across, points["shoulder"][0] * across
    shoulder_y = anchor_y - points["shoulder"][1] * down
    armpit_y = anchor_y - points["armpit"][1] * down
    joint = (body.point("shoulder_l") + body.point("shoulder_r") * [-1.0, 1.0, 1.0]) / 2
    if shoulder_x <= neck_x or shoulder_y <= armpit_y:
        return v
    drop = max(shoulder_y - armhole(body, joint).top, 0.0)
    squeeze = (joint[0] - centre_x - neck_x) / (shoulder_x - neck_x)  # the neck-to-shoulder run's new length
    if not sleeved:  # straps or a sleeveless shoulder end where they end: never out towards the arm
        squeeze = min(squeeze, 1.0)
    dx = v[:, 0] - centre_x
    out_share = np.clip((np.abs(dx) - neck_x) / (shoulder_x - neck_x), 0.0, None)
    up_share = np.clip((v[:, 1] - armpit_y) / (shoulder_y - armpit_y), 0.0, 1.0)
    out = v.copy()
    out[:, 1] -= drop * np.minimum(out_share, 1.5) * up_share
    beyond = np.maximum(np.abs(dx) - neck_x, 0.0)
    out[:, 0] = centre_x + np.sign(dx) * (np.minimum(np.abs(dx), neck_x) + beyond * (1 + (squeeze - 1) * up_share))
    return out


def _depth_side(z: np.ndarray, uv: np.ndarray, bins: int = 6) -> np.ndarray:
    """Front (> 0) or back (< 0) of a part's points: their depth against the part's middle depth
    along it (imported sleeves are tubes whose middle need not be at z = 0)."""
    along = uv[:, 1]
    edges = np.quantile(along, np.linspace(0, 1, bins + 1)[1:-1])
    which = np.searchsorted(edges, along)
    middle = np.array([np.median(z[which == k]) if (which == k).any() else 0.0 for k in range(bins)])
    return z - middle[which]


def _sleeve_span(kind: str, part: PartFrame, metres: float, chain: Chain) -> float:
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


def _leg_frame(leg: np.ndarray) -> PartFrame:
    """A trouser leg's frame, from its part (crotch, side at the crotch's height, outer hem, inner
    hem, ...): from the middle of the crotch line's half to the middle of its hem."""
    crotch, side, out, inner = leg[:4]
    return PartFrame((crotch + side) / 2, (out + inner) / 2, side, float(side[0] - crotch[0]),
                     float(np.linalg.norm(out - inner)))


def _leg_span(kind: str, part: PartFrame, metres: float, chain: Chain, body: BodyModel) -> tuple[float, float]:
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


def lowest_hem(category: str, body: BodyModel) -> float:
    """The lowest a garment's hem may hang, from the body's landmarks: a flat-lay photo's length,
    scaled with its width, is not the wearer's (trousers from real photos ran 0.4-0.8 m through the
    floor). A top ends just above the crotch, trousers at the ankles, a dress or a coat above the
    feet."""
    soles = float(body.mesh.bounds[0, 1])
    longest = REGISTRY[category].longest
    if longest == "crotch" and "crotch" in body.landmarks:
        return float(body.point("crotch")[1]) + TOP_ABOVE_CROTCH_M
    ankles = [body.landmarks[k][1] for k in ("ankle_l", "ankle_r") if k in body.landmarks]
    if longest == "ankles" and ankles:
        return max(float(np.mean(ankles)) - ANKLE_BELOW_M, soles + FLOOR_CLEAR_M)
    if ankles:  # "feet": a dress or a coat hangs clear of the feet, not round them to the floor
        return max(float(np.mean(ankles)) + FEET_CLEAR_M, soles + FLOOR_CLEAR_M)
    return soles + FLOOR_CLEAR_M


def hug_weights(v: np.ndarray, category: str) -> np.ndarray:
    """Where the garment should rest on the body: the shoulders of tops and dresses, the waistband
    of bottoms (1 at the top edge, fading out over the category's `rests_m`); elsewhere it hangs."""
    return np.clip(1.0 - (v[:, 1].max() - v[:, 1]) / REGISTRY[category].rests_m, 0.0, 1.0)
