"""The avatar as the fitting sees it: its mesh, landmarks and fast surface queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import trimesh
from scipy import ndimage
from scipy.interpolate import RegularGridInterpolator
from scipy.spatial import ConvexHull

from core.avatars.measure import torso_loop
from core.fitting.field import REACH as FIELD_REACH
from core.fitting.field import DistanceField
from core.fitting.grid import REACH, BodyGrid
from core.fitting.surface import SurfaceSamples

COARSE_SPACING = 0.01  # metres between the samples of long-range queries
SECTION_STEP = 0.01  # metres between the body's cross-sections
# `BodyModel.shoulder_top`: the skin seen from above on a grid this fine, this far either side of
# the middle; its rays start this far above the neck's base, skin met higher than the next figure
# above it is the head's, and skin whose normal points up less than SHOULDER_UP is a side's
SHOULDER_GRID_M, SHOULDER_ACROSS_M = 0.01, 0.3
SHOULDER_RAY_ABOVE_M, SHOULDER_HEAD_ABOVE_M = 0.06, 0.02
SHOULDER_UP = 0.5
ANGLES = 48  # directions round a section's centre in which its outline's radius is kept
# Their angles, from the front (+z) towards +x: direction j is (sin, cos) of DIRECTIONS[j]
DIRECTIONS = 2 * np.pi * np.arange(ANGLES) / ANGLES


@dataclass(frozen=True)
class Sections:
    """Cross-sections of a body as ellipses, every SECTION_STEP in height."""

    y: np.ndarray  # heights of the sections
    ellipses: np.ndarray  # (n, 5): centre x, centre z, half-width, half-depth (0 where none), free half-width
    # (n, ANGLES): the outline's radius from the centre towards angle 2*pi*j/ANGLES (from +z, the
    # front, towards +x), over its convex hull: what a tape round the body, or cloth, lies on
    radii: np.ndarray

    def at(self, y: np.ndarray) -> np.ndarray:
        """The section at each height, interpolated between the two nearest: (len(y), 5)."""
        return self._between(self.ellipses, y)

    def radii_at(self, y: np.ndarray) -> np.ndarray:
        """The outline's radii at each height, interpolated like `at`: (len(y), ANGLES)."""
        return self._between(self.radii, y)

    def _between(self, table: np.ndarray, y: np.ndarray) -> np.ndarray:
        """`table`'s rows at heights `y`, linear between the two nearest sections (the ends held)."""
        y = np.asarray(y, float)
        i = np.clip(np.searchsorted(self.y, y) - 1, 0, len(self.y) - 2)
        t = np.clip((y - self.y[i]) / (self.y[i + 1] - self.y[i]), 0.0, 1.0)[:, None]
        return (1 - t) * table[i] + t * table[i + 1]


def hull_radii(points: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """The radius of the convex hull of 2D `points` (x, z) from `centre` in each of ANGLES
    directions: where each direction's ray leaves the hull, from its edges' support lines (for a
    ray from inside a convex polygon, the nearest crossing of an edge's line is the exit)."""
    hull = points[ConvexHull(points).vertices]  # counter-clockwise in (x, z)
    edge = np.roll(hull, -1, axis=0) - hull
    normal = np.column_stack([edge[:, 1], -edge[:, 0]])
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
    offset = np.einsum("ij,ij->i", hull - centre, normal)  # each edge line's distance from the centre
    direction = np.column_stack([np.sin(DIRECTIONS), np.cos(DIRECTIONS)])  # (x, z)
    along = direction @ normal.T  # (ANGLES, edges): how fast each ray nears each line
    hits = np.where(along > 1e-9, np.abs(offset)[None, :] / np.maximum(along, 1e-9), np.inf)
    return hits.min(axis=1)


@dataclass
class BodyModel:
    mesh: trimesh.Trimesh  # watertight, glTF frame, feet on y=0, facing +Z
    landmarks: dict[str, list[float]]
    measurements: dict[str, float] = field(default_factory=dict)
    _extents: dict[float, tuple[float, float, float, float]] = field(default_factory=dict, init=False, repr=False)

    def point(self, name: str) -> np.ndarray:
        return np.asarray(self.landmarks[name], float)

    @cached_property
    def surface(self) -> SurfaceSamples:
        """Built once per avatar (~0.2 s) and kept with it."""
        return SurfaceSamples.of(self.mesh)

    @cached_property
    def coarse(self) -> SurfaceSamples:
        """Sparser samples for long-range queries (the hug pulls cloth in from up to 25 cm), where
        the dense samples' search would visit thousands of points and a centimetre is nothing."""
        return SurfaceSamples.of(self.mesh, spacing=COARSE_SPACING)

    @cached_property
    def grid(self) -> BodyGrid:
        """Built once per avatar, like the samples."""
        return BodyGrid.of(self.mesh, self.surface)

    @cached_property
    def field(self) -> DistanceField:
        """The signed distance on a fine grid (~2.5 s per avatar, 17 MB): most queries' answer."""
        return DistanceField.of(self.surface, self.grid, self.contains)

    def prepared(self) -> BodyModel:
        """Build what every fit on this avatar uses (samples, grid, the exact search's tree, the
        torso sections placement reads) now, once per process, so that no user's fit pays for it
        (about 3.5 s in all, the distance field most of it)."""
        _ = self.surface, self.coarse, self.grid, self.field, self.mesh.triangles_tree, self.neck_base_y
        _ = self.arm_radius, self.sections, self.shoulder_top
        for name in ("chest", "waist"):  # the sections placement reads
            self.torso_extent(float(self.point(name)[1]))
        self.mesh.mutable = False  # read-only from now on, so trimesh need not re-check its caches
        return self

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Exact inside test (ray parity where it matters, the grid elsewhere)."""
        return self.grid.contains(np.asarray(points, float), self.mesh)

    def surface_query(self, points: np.ndarray, near: float = 0.03) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Signed distance (negative inside), closest surface point and outward normal per point.

        Points farther than `near` outside get +inf and are left alone; points deep inside (a few,
        after placement) take their nearest sample at any range: they only need a way out, and
        whoever moves them queries again from where they land. The distance field answers
        (core/fitting/field.py), the samples' search where it does not resolve the skin; queries
        reaching beyond the field search the samples, beyond the grid the coarse samples.
        """
        points = np.asarray(points, float)
        if near > FIELD_REACH:
            return self._searched(points, near)
        signed, closest, normals, deep, unresolved = self.field.query(points, near)
        if (unsure := np.flatnonzero(unresolved)).size:
            signed[unsure], closest[unsure], normals[unsure] = self._searched(points[unsure], near)
        if (deep := np.flatnonzero(deep & ~unresolved)).size:
            signed[deep], closest[deep], normals[deep] = self.surface.query(points[deep], np.inf)
        return signed, closest, normals

    def _searched(self, points: np.ndarray, near: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """surface_query's answer from the samples' KD-tree: for reaches beyond the field's, and
        where the field does not resolve the skin."""
        samples = self.surface if near <= REACH else self.coarse
        signed, closest, normals = np.full(len(points), np.inf), points.copy(), np.zeros((len(points), 3))
        near_idx = np.flatnonzero(self.grid.clearance(points) < near)
        signed[near_idx], closest[near_idx], normals[near_idx] = samples.query(points[near_idx], near)
        far = np.flatnonzero(~np.isfinite(signed))
        deep = far[self.contains(points[far])] if len(far) else far
        if len(deep):
            signed[deep], closest[deep], normals[deep] = samples.query(points[deep], np.inf)
        return signed, closest, normals

    @cached_property
    def neck_base_y(self) -> float:
        """Height where the neck meets the shoulders, which a top's neckline rests on: the
        skeleton's neck joint lies above it, in the neck. Found from the body's
        sections: going down from the neck's narrowest section, where it grows half as wide again."""
        pelvis, chest, neck = self.point("pelvis"), self.point("chest")[1], self.point("neck")[1]
        ys = np.arange(chest, neck + 0.05, 0.005)
        widths = np.full(len(ys), np.nan)
        for i, y in enumerate(ys):  # ~60 sections, once per avatar
            loop = torso_loop(self.mesh, float(y), (float(pelvis[0]), float(pelvis[2])))
            if loop is not None:
                widths[i] = loop.bounds[2] - loop.bounds[0]
        upper = ys > (chest + neck) / 2
        if not np.isfinite(widths[upper]).any():
            return neck
        narrowest = int(np.nanargmin(np.where(upper, widths, np.nan)))
        below = np.flatnonzero((np.arange(len(ys)) < narrowest) & (widths >= 1.5 * widths[narrowest]))
        return float(ys[below[-1]]) if len(below) else neck

    @cached_property
    def shoulder_top(self) -> RegularGridInterpolator:
        """The skin over the shoulders seen from above: its height at (x, z) where it faces up
        (SHOULDER_UP), NaN elsewhere; what cloth lying over the shoulders rests on. Rays cast
        straight down on a SHOULDER_GRID_M grid from just above the neck's base, across the
        torso's width and the body's depth; those starting inside (the neck) or meeting skin well
        above the neck's base (the head) are not the shoulders'. Once per avatar, ~2k rays."""
        middle, top = float(self.point("pelvis")[0]), self.neck_base_y
        xs = middle + np.arange(-SHOULDER_ACROSS_M, SHOULDER_ACROSS_M + 1e-9, SHOULDER_GRID_M)
        zs = np.arange(self.mesh.bounds[0, 2], self.mesh.bounds[1, 2] + SHOULDER_GRID_M, SHOULDER_GRID_M)
        x, z = (a.ravel() for a in np.meshgrid(xs, zs, indexing="ij"))
        origins = np.column_stack([x, np.full(len(x), top + SHOULDER_RAY_ABOVE_M), z])
        heights = np.full(len(x), np.nan)
        start = np.flatnonzero(~self.contains(origins))
        hits, rays, tri = self.mesh.ray.intersects_location(
            origins[start], np.tile([0.0, -1.0, 0.0], (len(start), 1)), multiple_hits=False)
        shoulders = (hits[:, 1] <= top + SHOULDER_HEAD_ABOVE_M) & (self.mesh.face_normals[tri, 1] >= SHOULDER_UP)
        heights[start[rays[shoulders]]] = hits[shoulders, 1]
        return RegularGridInterpolator((xs, zs), heights.reshape(len(xs), len(zs)), bounds_error=False)

    @cached_property
    def arm_radius(self) -> float:
        """The arms' radius: from the elbows and the middle of the upper arms' bones to the
        nearest skin sample (the largest of the four), the least a sleeve must leave an arm."""
        bones = [self.point(f"elbow_{side}") for side in "lr"]
        bones += [(self.point(f"shoulder_{side}") + self.point(f"elbow_{side}")) / 2 for side in "lr"]
        distance, _ = self.surface.tree.query(np.array(bones))
        return float(distance.max())

    @cached_property
    def sections(self) -> Sections:
        """The body's cross-sections every SECTION_STEP from the soles to the neck, as ellipses
        (centre, half-width, half-depth): the torso's own above the crotch (the arms are separate
        loops there), both legs together below it. Built once per avatar (~0.2 s): what the cloth
        of a garment's body is wrapped round."""
        soles, top = float(self.mesh.bounds[0, 1]), float(self.point("neck")[1])
        ys = np.arange(soles + SECTION_STEP / 2, top, SECTION_STEP)
        crotch = float(self.point("crotch")[1]) if "crotch" in self.landmarks else float(self.point("pelvis")[1])
        out = np.zeros((len(ys), 5))  # centre x, centre z, half-width, half-depth, free half-width
        radii = np.zeros((len(ys), ANGLES))
        hip_half = self.measurements.get("hips_cm", 100.0) / 200.0 / 2  # ~ the hips' flat half-width
        for i, y in enumerate(ys):  # ~170 sections, once per avatar
            found = self._section(float(y)) if y > crotch + SECTION_STEP else self._legs(float(y), 1.3 * hip_half)
            if found is None:  # no section here: the one below (above the soles there always is one)
                out[i] = out[i - 1] if i else (0.0, 0.0, 0.0, 0.0, np.inf)
                radii[i] = radii[i - 1] if i else 0.0
                continue
            (x0, x1, z0, z1, free), outline = found
            out[i] = (x0 + x1) / 2, (z0 + z1) / 2, (x1 - x0) / 2, (z1 - z0) / 2, free
            radii[i] = hull_radii(outline, out[i, :2])
        # Above the armpits the section holds the shoulders with the arms' tops: the torso itself
        # ends at the shoulder joints, beyond them is the arm (a sleeve's, or bare).
        if all(f"shoulder_{side}" in self.landmarks for side in "lr"):
            joint = (self.point("shoulder_l")[0] - self.point("shoulder_r")[0]) / 2
            joined = ~np.isfinite(out[:, 4]) & (ys > crotch + 0.3 * (top - crotch))
            out[joined, 2] = np.minimum(out[joined, 2], joint)
            radii[joined] = np.minimum(radii[joined], joint / np.maximum(np.abs(np.sin(DIRECTIONS)), 1e-6))
        # The room beside the torso: the narrowest of the sections round each (an arm's nearest
        # is what a torso's cloth must not enter); where none is beside it, a metre.
        out[:, 4] = -ndimage.maximum_filter1d(-np.minimum(out[:, 4], 1.0), 5, mode="nearest")
        # A mesh's sections jump a little from one to the next, and more where the arms join the
        # torso: smoothed over 9 cm, cloth wrapped round them neither ripples nor tears there.
        kernel = np.ones(9) / 9
        have = out[:, 2] > 0
        table = np.hstack([out, radii])
        smooth = np.stack([np.convolve(np.pad(col, 4, mode="edge"), kernel, mode="valid") for col in table.T], axis=1)
        table[have] = smooth[have]
        # Smoothing never takes a section's radii in below its own: the shoulders' top must not take
        # in the narrow neck above them (the cloth there would start inside, and be stretched out)
        table[:, 5:] = np.maximum(table[:, 5:], radii)
        return Sections(ys, table[:, :5], table[:, 5:])

    def _legs(self, y: float, reach: float) -> tuple[tuple[float, float, float, float, float], np.ndarray] | None:
        """Both legs' section at height y, together (what a skirt goes round): the loops within
        `reach` of the body's middle across (the hands hang further out)."""
        section = self.mesh.section(plane_origin=[0, y, 0], plane_normal=[0, 1, 0])
        if section is None:
            return None
        middle = float(self.point("pelvis")[0])
        loops = [section.vertices[e.points] for e in section.entities]
        loops = [p for p in loops if abs(float(p[:, 0].mean()) - middle) < reach]
        if not loops:
            return None
        points = np.concatenate(loops)
        (x0, _, z0), (x1, _, z1) = points.min(axis=0), points.max(axis=0)
        return (x0, x1, z0, z1, np.inf), points[:, [0, 2]]

    def _section(self, y: float) -> tuple[tuple[float, float, float, float, float], np.ndarray]:
        """The torso's loop at height y, found round the spine (pelvis to neck, straight): its
        extents, and the free half-width beside it, from its middle to the nearest other loop
        (an arm, a hand; inf when there is none); and its outline's points (x, z)."""
        pelvis, neck = self.point("pelvis"), self.point("neck")
        t = float(np.clip((y - pelvis[1]) / max(neck[1] - pelvis[1], 1e-6), 0.0, 1.0))
        centre = pelvis + t * (neck - pelvis)
        loop = torso_loop(self.mesh, y, (float(centre[0]), float(centre[2])))
        if loop is None:
            x0, x1, z0, z1 = self.torso_extent(y)
            return (x0, x1, z0, z1, np.inf), np.array([[x0, z0], [x1, z0], [x1, z1], [x0, z1]])
        x0, z0, x1, z1 = loop.bounds
        section = self.mesh.section(plane_origin=[0, y, 0], plane_normal=[0, 1, 0])
        middle, free = (x0 + x1) / 2, np.inf
        for entity in section.entities if section is not None else ():
            xs = section.vertices[entity.points, 0]
            if xs.min() > x1:  # a loop to the torso's left (+x) or right
                free = min(free, float(xs.min()) - middle)
            elif xs.max() < x0:
                free = min(free, middle - float(xs.max()))
        return (x0, x1, z0, z1, free), np.asarray(loop.exterior.coords)

    def torso_extent(self, y: float) -> tuple[float, float, float, float]:
        """(x_min, x_max, z_min, z_max) of the torso's section at height y; kept, as placement
        asks for the same few heights on every fit."""
        if y not in self._extents:
            pelvis = self.point("pelvis")
            loop = torso_loop(self.mesh, y, (float(pelvis[0]), float(pelvis[2])))
            half = 0.15
            x0, z0, x1, z1 = loop.bounds if loop is not None else (-half, -half, half, half)
            self._extents[y] = (x0, x1, z0, z1)
        return self._extents[y]
