"""Where a garment goes on the body, part by part, from its parse (core/garment): the garment's
body (torso, seat) is scaled to the body's girth and hung from its anchor (the neck's base, the
waist); sleeves and trouser legs are wrapped round the posed arms and legs (core/fitting/limbs.py);
a skirt is opened into a cone clear of the legs. Lengths come from the pattern, bounded by the
body's landmarks, never from the width's scale."""

from __future__ import annotations

import numpy as np
import trimesh

from core.fitting.body import BodyModel
from core.fitting.limb_parts import ANKLE_BELOW_M, LimbPlacing, paint_of, with_tubes
from core.fitting.limbs import armhole
from core.fitting.openings import LIMB_EXITS, LIMB_ROOM_M, TRUNK_EXITS, cap_faces
from core.fitting.torso import wrap_body
from core.garment.frames import MeshFrame
from core.garment.parse import GarmentParse, parse_mask, part_labels
from core.garment.patterns import SHAPES
from core.garment.registry import PARTS, REGISTRY
from core.mesh.cleanup import weld_groups
from core.mesh.importer import front_mask

# Ease over the body's flat half-girth: how much wider than the body the garment is cut.
EASE = {"tight": 1.02, "regular": 1.10, "loose": 1.22}
TOP_ABOVE_CROTCH_M = 0.02  # the longest a top hangs: its hem just above the crotch
FLOOR_CLEAR_M = 0.03  # a dress or a long coat ends at least this far above the floor
TEAR = 3.0  # a face placing stretches more than this is torn out (parts sewn apart) ...
TEAR_MIN_M = 0.04  # ... when its edge ends longer than this
FEET_CLEAR_M = 0.03  # ... and this far above the ankle joints, clear of the feet
SHOULDER_ROOM_M = 0.008  # cloth over the shoulders' top lies this far over it (the hug then rests it) ...
SHOULDER_LIFT_M = 0.05  # ... lifted by at most this
ROOF_UP = 0.7  # cloth whose normal is this near straight up is a roof over the shoulders (torso.wrap_body)



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
    s, sy, anchor_y, transform = _hanging(frame, flat, parse, points, length, category, body, ease)
    centre = body.point("pelvis")
    g = garment.copy()
    g.apply_transform(transform)
    edge = float(np.median(g.edges_unique_length)) if len(g.faces) else 0.01  # the cloth's own resolution
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
    wrapped = wrap_body(v, ~limbs, hangs, body, float(centre[0]), fills)
    roof = _roof(g, v, wrapped)
    bodice = parse.shape == "bodice"
    line = _shoulder_line(g, wrapped, ~limbs, body, float(centre[0])) & ~roof if bodice else np.zeros(len(v), bool)
    roof |= line
    v = wrap_body(v, ~limbs, hangs, body, float(centre[0]), fills, roof) if roof.any() else wrapped
    if bodice:
        v = _over_shoulders(v, ~limbs, body, float(centre[0]))
        # a point of it no lift took over the top (a scoop's rim, low on the chest; inside the
        # neck) would be left inside the body between the panels: it stays with its panel
        stuck = np.flatnonzero(line)[body.contains(v[line])]
        v[stuck] = wrapped[stuck]
    if parse.shape == "bodice" and parse.kind != "none":
        v = _inside_armholes(v, ~limbs, body, float(centre[0]))
    facing = g.vertex_normals[:, 2] >= 0  # which side's paint (a photo's front or back) each point carries
    limbs_on = LimbPlacing(parse, uv, flat, points, parts, body, s, height)
    v, sleeves, resampled = limbs_on.place(v, labels, (paint_of(g), facing), edge)
    g.vertices = v
    if closed:
        caps, more = cap_faces(g, body, LIMB_EXITS, found=caps, room=LIMB_ROOM_M)
        if more or openings:
            g.update_faces(~caps)  # vertices kept: `flat` still indexes them
            openings += more
    if resampled.any():  # the sleeves' own cloth gives way to their tubes
        g.update_faces(~resampled[g.faces].any(axis=1))
    g = _tear(g, flat, s)
    return (with_tubes(g, sleeves) if sleeves else g), openings


def _hanging(frame: MeshFrame, flat: np.ndarray, parse: GarmentParse, points: dict[str, np.ndarray],
             length: float, category: str, body: BodyModel, ease: str) -> tuple[float, float, float, np.ndarray]:
    """How the flat garment is scaled and hung: its width scale (the body's girth with the ease over
    the garment's), its length scale (never below the category's lowest hem), the height it hangs
    from and the transform; its depth takes the body inside, the seat too where it reaches it."""
    height = frame.height
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
    return s, sy, anchor_y, transform


def _roof(g: trimesh.Trimesh, hung: np.ndarray, wrapped: np.ndarray) -> np.ndarray:
    """The cloth facing up (ROOF_UP) among the faces wrapping stretched into webs (`_webs`): a 3D
    garment's yoke from its front over to its back, which wrapped as front and back panels would
    hang as a web over the shoulders' top and be torn open (the torso wraps it as a roof). Only
    those faces' corners: grown over all the cloth facing up round them, photos' straps and
    shoulder lines (where a shell's front and back meet, and which never tear) came out stretched."""
    roof = np.zeros(len(hung), bool)
    roof[g.faces[_webs(g.faces, wrapped, hung)].ravel()] = True
    return roof & (g.vertex_normals[:, 1] > ROOF_UP)


def _tear(g: trimesh.Trimesh, flat: np.ndarray, scale: float) -> trimesh.Trimesh:
    """Faces that placing stretched into webs (`_webs`: a face joining a sleeve's root to the
    torso's side under the arm, the legs' inner seams at the crotch) would hang between the parts
    and cut through the body: cut them, as the parts are sewn apart."""
    torn = _webs(g.faces, g.vertices, flat * scale)
    if torn.any():
        g.update_faces(~torn)
    g.remove_unreferenced_vertices()  # and those of caps cut before
    return g


def _webs(faces: np.ndarray, after: np.ndarray, before: np.ndarray) -> np.ndarray:
    """The faces with an edge more than TEAR times as long at `after` as at `before`, and longer
    than TEAR_MIN_M (a sliver's short edge may grow)."""
    def lengths(v: np.ndarray) -> np.ndarray:
        return np.linalg.norm(v[faces] - v[np.roll(faces, 1, axis=1)], axis=2)

    return (lengths(after) > np.maximum(TEAR * lengths(before), TEAR_MIN_M)).any(axis=1)


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


def _shoulder_line(g: trimesh.Trimesh, wrapped: np.ndarray, torso: np.ndarray, body: BodyModel,
                   centre_x: float) -> np.ndarray:
    """A bodice's seam facing up (ROOF_UP) over the shoulders, from the neck out to the joints:
    a photo's shoulder line and the back of its neckline, where its front and back meet (its
    outline, each point of it a front and a back vertex at one position). Wrapped with the front
    (or the back), the faces from there to the other side cut through the shoulders' top; as a
    roof (between the two) and lifted over the skin (`_over_shoulders`) they lie over it. The
    panels' own cloth near the outline, rounding into it, faces up too, but is theirs."""
    group, counts = weld_groups(g.vertices)
    seam = counts[group] > 1
    return _shoulder_zone(wrapped, torso, body, centre_x) & (g.vertex_normals[:, 1] > ROOF_UP) & seam


def _shoulder_zone(v: np.ndarray, torso: np.ndarray, body: BodyModel, centre_x: float) -> np.ndarray:
    """The torso's points above the armpits and within the shoulder joints' reach across."""
    return torso & (v[:, 1] > body.point("chest")[1]) & (np.abs(v[:, 0] - centre_x) <= _joints_reach(body, centre_x))


def _joints_reach(body: BodyModel, centre_x: float) -> float:
    """How far across from the middle the shoulder joints are (the mean of the two)."""
    return float(np.mean([abs(body.point(f"shoulder_{side}")[0] - centre_x) for side in "lr"]))


def _over_shoulders(v: np.ndarray, torso: np.ndarray, body: BodyModel, centre_x: float) -> np.ndarray:
    """A wrapped bodice's cloth above the armpits lies over the shoulders' top, SHOULDER_ROOM_M
    above the skin seen from above (BodyModel.shoulder_top), where wrapping round the body's
    level sections left it under that skin: a photo's back is its front's outline, its neckline as
    low, and a flat garment's shoulder line sloped to the armhole passes under the rise of a
    heavier body's shoulders (its trapezius, 1-3 cm on the men); the clearance's pushes heaved
    that cloth out in lumps, the shoulders stretched by 15-20 %. Lifted straight up, by at most
    SHOULDER_LIFT_M (deeper is not the top's: under an arm, inside the neck)."""
    zone = np.flatnonzero(_shoulder_zone(v, torso, body, centre_x))
    lift = body.shoulder_top(v[zone][:, [0, 2]]) + SHOULDER_ROOM_M - v[zone, 1]
    up = np.isfinite(lift) & (lift > 0) & (lift < SHOULDER_LIFT_M)
    out = v.copy()
    out[zone[up], 1] += lift[up]
    return out


def _inside_armholes(v: np.ndarray, torso: np.ndarray, body: BodyModel, centre_x: float) -> np.ndarray:
    """A sleeved bodice's torso ends at its armholes, where the sleeves' tubes start (limbs.armhole:
    the loop round the shoulder joint, across the arm): its cloth above the armpits reaching out
    past them (a flat garment's shoulder corner) would hang beside the sleeve's root as a flap,
    its open corner sticking out from the shoulder. Bring it in to the armhole's plane, and there
    out to its loop, where the sleeve's root is: inside it, it would lie inside the shoulder."""
    joints = [body.point(f"shoulder_{side}") for side in "lr"]
    loops = [armhole(body, j) for j in joints]
    bottom = min(float(loop.centre[1] - loop.up) for loop in loops)
    reach = _joints_reach(body, centre_x)
    dx = v[:, 0] - centre_x
    past = torso & (v[:, 1] > bottom) & (np.abs(dx) > reach)
    out = v.copy()
    out[past, 0] = centre_x + np.sign(dx[past]) * reach
    for loop in loops:
        at = np.flatnonzero(past & (np.sign(dx) == np.sign(loop.centre[0] - centre_x)))
        dy, dz = (out[at, 1] - loop.centre[1]) / loop.up, (out[at, 2] - loop.centre[2]) / loop.deep
        r = np.hypot(dy, dz)
        inside = r < 1
        grow = 1 / np.maximum(r[inside], 1e-6)
        out[at[inside], 1] = loop.centre[1] + dy[inside] * grow * loop.up
        out[at[inside], 2] = loop.centre[2] + dz[inside] * grow * loop.deep
    return out


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
