"""Landmarks and tape measurements of a body mesh in the avatar frame (metres, +Y up, facing +Z)."""

from __future__ import annotations

import numpy as np
import trimesh
from shapely.geometry import Point, Polygon


def torso_loop(mesh: trimesh.Trimesh, y: float, centre_xz: tuple[float, float]):
    """The closed section at height `y` that holds the torso's centre (arms are separate loops)."""
    section = mesh.section(plane_origin=[0, y, 0], plane_normal=[0, 1, 0])
    if section is None:
        return None
    # Project on the floor plane: x stays x, z becomes the 2D y (a plain drop of the y axis).
    points = section.vertices[:, [0, 2]]
    centre = Point(*centre_xz)
    for entity in section.entities:
        if entity.closed and len(entity.points) >= 4:
            poly = Polygon(points[entity.points])
            if poly.is_valid and poly.contains(centre):
                return poly
    return None


def girth(mesh: trimesh.Trimesh, y: float, centre_xz: tuple[float, float], max_width: float) -> float:
    """Tape-measure girth: the convex hull's perimeter of the torso loop, in metres.

    0 where there is no loop, or where it is wider than `max_width` (arms joined at the armpits).
    """
    loop = torso_loop(mesh, y, centre_xz)
    if loop is None or loop.bounds[2] - loop.bounds[0] > max_width:
        return 0.0
    return float(loop.convex_hull.length)


def crotch_height(mesh: trimesh.Trimesh, x: float, z: float) -> float:
    """The first surface hit going up from the floor between the legs."""
    locs, _, _ = mesh.ray.intersects_location([[x, mesh.bounds[0, 1] - 0.01, z]], [[0, 1, 0]])
    return float(locs[:, 1].min()) if len(locs) else float(mesh.bounds[0, 1])


def _vertex(levels: np.ndarray, girths: np.ndarray, i: int) -> tuple[float, float]:
    """The extremum between sampled levels: a parabola through the best level and its neighbours,
    so the measurement varies smoothly with the body (the avatar solver differentiates it)."""
    if 0 < i < len(levels) - 1 and min(girths[i - 1], girths[i + 1]) > 0:
        g0, g1, g2 = girths[i - 1], girths[i], girths[i + 1]
        curvature = g0 - 2 * g1 + g2
        if abs(curvature) > 1e-12:
            t = float(np.clip(0.5 * (g0 - g2) / curvature, -1.0, 1.0))
            step = levels[i + 1] - levels[i]
            return float(levels[i] + t * step), float(g1 - 0.25 * (g0 - g2) * t)
    return float(levels[i]), float(girths[i])


def measure(mesh: trimesh.Trimesh, joints: dict[str, np.ndarray]) -> tuple[dict, dict]:
    """Landmarks (points, metres) and measurements (cm) from the mesh and the skeleton's joints.

    Chest is the largest torso girth between the armpits and the waist, waist the smallest
    between chest and hips, hips the largest between waist and crotch: how a tailor measures.
    """
    pelvis = joints["pelvis"]
    centre = (float(pelvis[0]), float(pelvis[2]))
    crotch_y = crotch_height(mesh, pelvis[0], pelvis[2])
    shoulder_y = float((joints["shoulder_l"][1] + joints["shoulder_r"][1]) / 2)
    span = shoulder_y - crotch_y
    levels = crotch_y + span * np.linspace(0.02, 0.85, 60)
    # Arms can merge with the torso's section only near the armpits; lower down a wide section is
    # just wide hips.
    arm_width = 1.1 * float(np.linalg.norm(joints["shoulder_l"] - joints["shoulder_r"]))
    girths = np.array([girth(mesh, y, centre, arm_width if y > crotch_y + 0.6 * span else np.inf)
                       for y in levels])
    upper = levels > crotch_y + 0.55 * span
    chest_i = np.flatnonzero(upper)[np.argmax(girths[upper])]
    mid = (levels > crotch_y + 0.3 * span) & (levels < levels[chest_i])
    waist_i = np.flatnonzero(mid)[np.argmin(np.where(girths[mid] > 0, girths[mid], np.inf))]
    low = levels < levels[waist_i]
    hips_i = np.flatnonzero(low)[np.argmax(girths[low])]

    def at(y: float) -> list[float]:
        return [float(centre[0]), float(y), float(centre[1])]

    landmarks = {name: [float(v) for v in p] for name, p in joints.items()}
    (chest_y, chest), (waist_y, waist), (hips_y, hips) = (_vertex(levels, girths, i)
                                                          for i in (chest_i, waist_i, hips_i))
    landmarks |= {"chest": at(chest_y), "waist": at(waist_y), "hips": at(hips_y), "crotch": at(crotch_y)}
    height = float(mesh.bounds[1, 1] - mesh.bounds[0, 1])
    measurements = {
        "height_cm": round(height * 100, 1),
        "chest_cm": round(chest * 100, 1),
        "waist_cm": round(waist * 100, 1),
        "hips_cm": round(hips * 100, 1),
        "shoulder_width_cm": round(float(np.linalg.norm(joints["shoulder_l"] - joints["shoulder_r"])) * 100, 1),
        "inseam_cm": round(float(crotch_y - mesh.bounds[0, 1]) * 100, 1),
    }
    return landmarks, measurements
