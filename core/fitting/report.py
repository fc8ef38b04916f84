"""What a person sees of a fitted garment, measured over its surface rather than at its vertices.

A fit can keep every vertex outside the body while faces bridging two vertices cut through an
arm, and a garment can clear the skin perfectly while running through the floor or leaving the
forearms bare. These figures are what the eye catches: cloth inside the body (area-sampled), cloth
below the soles, where the hem and cuffs end against the body's landmarks, how much of each limb
its sleeve or leg encloses (rays cast across the bone), cloth standing far off the skin,
flaps along the open edges, and left/right symmetry.
"""

from __future__ import annotations

import time

import numpy as np
import trimesh
from scipy.spatial import cKDTree

from core.fitting.body import BodyModel
from core.fitting.coverage import flap_mm, shoulder_cover, torso_holes
from core.fitting.grid import REACH

SAMPLES = 20_000  # area-weighted samples per garment: a 1.5 m² garment gets one per ~9 mm
INSIDE_MM = 1.0  # cloth deeper than this inside the body counts as inside (below: sampling noise)
EXACT_BAND = 0.003  # approximate depths within this of the threshold are checked exactly (error < 2 mm)
STANDOFF = 0.12  # metres off the skin above the hips: cloth standing out like a tent
STATIONS = 20  # ray rings per bone
RING = 16  # rays per ring
# A ray's hit counts when within the limb's radius plus this of the bone: a sleeve farther off the
# arm is a flap, and the torso's side lies not far beyond; the legs of wide trousers or a skirt
# hide the legs from farther away, and the other leg's cloth is only met where the limb's own is missing.
REACH_MARGIN = {"arm": 0.06, "leg": 0.15}
MEASURED = (0.15, 0.85)  # the part of each bone the enclosure is averaged over (joints excluded)
SHORT_SLEEVE = (0.15, 0.45)  # the part of the upper arm a short sleeve must enclose
COVERED = 0.5  # a ring with at least this share of hits counts as covered, for the cuff's reach
SHOULDER_CAP = 0.15  # cloth on this first part of the upper arm is the shoulder, which every top covers
SYMMETRY_NEAR = 0.02  # beyond this from every mirrored sample, the distance is the samples', not the plane's

LIMBS = {"arm_l": ("shoulder_l", "elbow_l", "wrist_l"), "arm_r": ("shoulder_r", "elbow_r", "wrist_r"),
         "leg_l": ("hip_l", "knee_l", "ankle_l"), "leg_r": ("hip_r", "knee_r", "ankle_r")}
SEGMENTS = {"arm": ("upper_arm", "forearm"), "leg": ("thigh", "shin")}
# Landmarks a hem is placed between, bottom up (the soles are the body's lowest point).
LEVELS = ("ankle", "knee", "crotch", "waist", "chest", "neck")


def garment_report(garment: trimesh.Trimesh, body: BodyModel) -> dict:
    """All the figures for one fitted garment layer on the body (JSON-ready)."""
    t0 = time.perf_counter()
    points, faces = trimesh.sample.sample_surface(garment, SAMPLES, seed=0)
    normals = garment.face_normals[faces]
    inside_share, deepest = surface_inside(points, body)
    bones = limb_bones(body)
    radii = {limb: bone_radii(body, joints) for limb, joints in bones.items()}
    shares = limb_enclosure(garment, bones, radii)
    enclosure = {f"{SEGMENTS[limb[:3]][k]}_{limb[-1]}": _measured(shares[limb][k]) for limb in LIMBS for k in (0, 1)}
    # a short sleeve's own reach: the upper arm's top part (15-45 % of shoulder -> elbow)
    enclosure |= {f"upper_arm_top_{side}": _measured(shares[f"arm_{side}"][0], SHORT_SLEEVE) for side in "lr"}
    on_arm, non_arm = _arm_cloth(points, body, bones, radii)
    hem_y = float(points[non_arm, 1].min()) if non_arm.any() else float(points[:, 1].min())
    sym_mean, sym_p95 = symmetry_mm(points, normals, float(body.point("pelvis")[0]))
    return {
        "surface_samples": len(points),
        "surface_inside_share": inside_share,
        "surface_deepest_mm": deepest,
        "below_soles_mm": below_soles_mm(garment, body),
        "hem_y_m": round(hem_y, 4),
        "hem_at": hem_level(hem_y, body),
        "enclosure": enclosure,
        "reach": {limb: cuff_reach(shares[limb], bones[limb]) for limb in LIMBS},
        "arm_cloth_share": float(on_arm.mean()),
        "standoff_share": standoff_share(points, body),
        "shoulder_cover": shoulder_cover(garment, body),
        "torso_holes": torso_holes(garment, body),
        "flap_mm": flap_mm(garment, body),
        "symmetry_mm_mean": sym_mean,
        "symmetry_mm_p95": sym_p95,
        "report_s": round(time.perf_counter() - t0, 4),
    }


def surface_inside(points: np.ndarray, body: BodyModel) -> tuple[float, float]:
    """Share of the surface samples more than INSIDE_MM inside the body, and the deepest (mm).

    The inside test is exact; depths come from the body's fast samples, and only those that could
    fall either side of the threshold (and the deepest few) are measured exactly."""
    inside = np.flatnonzero(body.contains(points))
    if not len(inside):
        return 0.0, 0.0
    signed, _, _ = body.surface_query(points[inside], near=REACH)  # fine samples; deeper points too
    depth = -signed
    threshold = INSIDE_MM / 1000
    check = np.flatnonzero(np.abs(depth - threshold) < EXACT_BAND)
    check = np.union1d(check, np.argsort(depth)[-16:])
    _, exact, _ = trimesh.proximity.closest_point(body.mesh, points[inside[check]])
    depth[check] = exact
    return float((depth > threshold).sum() / len(points)), float(depth.max() * 1000)


def below_soles_mm(garment: trimesh.Trimesh, body: BodyModel) -> float:
    """How far the garment's lowest point lies below the soles (the body's lowest point), or 0."""
    return float(max(0.0, body.mesh.bounds[0, 1] - garment.bounds[0, 1]) * 1000)


def limb_bones(body: BodyModel) -> dict[str, np.ndarray]:
    """Per limb, its three joints (root, middle, end) as a (3, 3) array."""
    return {limb: np.array([body.point(name) for name in joints]) for limb, joints in LIMBS.items()}


def _stations(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """STATIONS points evenly along a bone, at the middles of equal steps."""
    f = (np.arange(STATIONS) + 0.5) / STATIONS
    return start + f[:, None] * (end - start)


def _perpendiculars(axis: np.ndarray) -> np.ndarray:
    """RING unit directions perpendicular to `axis`, evenly around it: (RING, 3)."""
    axis = axis / np.linalg.norm(axis)
    helper = np.eye(3)[np.argmin(np.abs(axis))]
    u = np.cross(axis, helper)
    u /= np.linalg.norm(u)
    v = np.cross(axis, u)
    angle = 2 * np.pi * np.arange(RING) / RING
    return np.cos(angle)[:, None] * u + np.sin(angle)[:, None] * v


def enclosure_profile(garment: trimesh.Trimesh, bones: list[tuple[np.ndarray, np.ndarray, float]]) -> np.ndarray:
    """For each bone (start, end, reach), the share of each station's ring of rays that hits the
    garment within `reach` of the bone: (bones, STATIONS). Rays are cast against the garment alone,
    so the skin they start under does not matter. One batched embree call for all bones."""
    origins, directions, reaches = [], [], []
    for start, end, reach in bones:
        ring = _perpendiculars(end - start)
        origins.append(np.repeat(_stations(start, end), RING, axis=0))
        directions.append(np.tile(ring, (STATIONS, 1)))
        reaches.append(np.full(STATIONS * RING, reach))
    origins, directions, reaches = np.concatenate(origins), np.concatenate(directions), np.concatenate(reaches)
    hit = np.zeros(len(origins), bool)
    if len(garment.faces):
        locations, ray, _ = garment.ray.intersects_location(origins, directions, multiple_hits=False)
        near = np.linalg.norm(locations - origins[ray], axis=1) <= reaches[ray]
        hit[ray[near]] = True
    return hit.reshape(len(bones), STATIONS, RING).mean(axis=2)


def limb_enclosure(garment: trimesh.Trimesh, bones: dict[str, np.ndarray],
                   radii: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per limb, the enclosure profile of its two bones: (2, STATIONS). A ray counts within the
    limb's radius (nearest skin from the bone, per bone) plus its REACH_MARGIN: farther cloth belongs
    to something else (the torso beside an arm)."""
    segments = [(joints[k], joints[k + 1], radii[limb][k] + REACH_MARGIN[limb[:3]]) for limb, joints in bones.items()
                for k in (0, 1)]
    profile = enclosure_profile(garment, segments)
    return {limb: profile[2 * i:2 * i + 2] for i, limb in enumerate(bones)}


def _measured(profile: np.ndarray, span: tuple[float, float] = MEASURED) -> float:
    """A bone's enclosure: its stations' mean over a part of its length (MEASURED: all but the joints)."""
    f = (np.arange(STATIONS) + 0.5) / STATIONS
    return float(profile[(f >= span[0]) & (f <= span[1])].mean())


def cuff_reach(profile: np.ndarray, joints: np.ndarray) -> float:
    """How far the sleeve or leg reaches along the limb, root to end (0: bare, 1: to the wrist or
    ankle): the end of the farthest covered ring. Not the first bare ring from the root: at the
    joint a ring points partly into the torso, and a loose sleeve's underside hangs beyond reach."""
    lengths = np.linalg.norm(np.diff(joints, axis=0), axis=1)
    f = (np.arange(STATIONS) + 1.0) / STATIONS  # each station's ring covers up to the end of its step
    ends = np.concatenate([f * lengths[0], lengths[0] + f * lengths[1]])
    covered = np.flatnonzero(np.concatenate(profile) >= COVERED)
    return float(ends[covered[-1]] / lengths.sum()) if len(covered) else 0.0


def _segment_distance(points: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance from each point to the segment, and the point's position along it (0..1)."""
    axis = end - start
    t = np.clip((points - start) @ axis / (axis @ axis), 0.0, 1.0)
    return np.linalg.norm(points - (start + t[:, None] * axis), axis=1), t


def _arm_cloth(points: np.ndarray, body: BodyModel, bones: dict[str, np.ndarray],
               radii: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Which samples lie out along an arm (past the shoulder cap), and which lie off the arms
    altogether: each sample goes to the bone it is nearest to in units of that part's radius
    (the torso is thick, an arm thin), so cloth at the torso's side stays the torso's."""
    pelvis, neck = body.point("pelvis"), body.point("neck")
    x0, x1, _, _ = body.torso_extent(float(body.point("waist")[1]))
    parts = [(pelvis, neck, (x1 - x0) / 2, "torso", 0)]
    for limb, joints in bones.items():
        parts += [(joints[k], joints[k + 1], radii[limb][k], limb[:3], k) for k in (0, 1)]
    scaled, along = [], []
    for start, end, radius, _, _ in parts:
        d, t = _segment_distance(points, start, end)
        scaled.append(d / max(radius, 1e-3))
        along.append(t)
    nearest = np.argmin(np.array(scaled), axis=0)
    t = np.array(along)[nearest, np.arange(len(points))]
    kind = np.array([p[3] for p in parts])[nearest]
    upper = np.array([p[4] == 0 for p in parts])[nearest]
    on_arm = (kind == "arm") & ~(upper & (t < SHOULDER_CAP))
    return on_arm, kind != "arm"


def bone_radii(body: BodyModel, joints: np.ndarray) -> np.ndarray:
    """Each bone's radius: the median distance from its stations to the nearest skin sample."""
    stations = np.concatenate([_stations(joints[k], joints[k + 1]) for k in (0, 1)])
    distance, _ = body.surface.tree.query(stations)
    return np.median(distance.reshape(2, STATIONS), axis=1)


def hem_level(y: float, body: BodyModel) -> str:
    """Where a height falls among the body's landmarks, in words ("between knee and crotch")."""
    soles = float(body.mesh.bounds[0, 1])
    if y < soles:
        return "below the soles"
    heights = [soles] + [_level_y(body, name) for name in LEVELS]
    names = ["soles", *LEVELS]
    for k in range(len(LEVELS)):
        if y < heights[k + 1]:
            return f"between {names[k]} and {names[k + 1]}"
    return "above the neck"


def _level_y(body: BodyModel, name: str) -> float:
    """A level's height: the landmark itself, or the mean of its left and right joints."""
    if name in body.landmarks:
        return float(body.point(name)[1])
    return float((body.point(f"{name}_l")[1] + body.point(f"{name}_r")[1]) / 2)


def standoff_share(points: np.ndarray, body: BodyModel) -> float:
    """Share of the cloth above the hips standing more than STANDOFF off the skin (the distance
    to the nearest coarse skin sample: centimetre-exact, and a tent is many centimetres)."""
    above = points[points[:, 1] > body.point("hips")[1]]
    if not len(above):
        return 0.0
    distance, _ = body.coarse.tree.query(above, distance_upper_bound=STANDOFF, workers=-1)  # inf beyond
    return float((distance > STANDOFF).mean())


def symmetry_mm(points: np.ndarray, normals: np.ndarray, mid_x: float) -> tuple[float, float]:
    """Mean and 95th percentile distance (mm) from the samples mirrored in the body's mid-plane
    to the garment: the distance to the nearest sample's face plane (near the surface, free of
    the sampling's spacing), or to the sample itself where no sample is near."""
    mirrored = points * [-1.0, 1.0, 1.0] + [2 * mid_x, 0.0, 0.0]
    distance, idx = cKDTree(points).query(mirrored, workers=-1)
    plane = np.abs(np.einsum("ij,ij->i", mirrored - points[idx], normals[idx]))
    d = np.where(distance < SYMMETRY_NEAR, plane, distance) * 1000
    return float(d.mean()), float(np.percentile(d, 95))
