"""Dress an avatar: place each garment, clear it off the body (layer by layer), report, export."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import trimesh

from core.fitting.body import BodyModel
from core.fitting.clearance import clear_surface, hug, push_out, push_out_of_layer, settle
from core.fitting.cloth import Cloth
from core.fitting.openings import is_closed
from core.fitting.placement import hug_weights, place
from core.fitting.report import garment_report
from core.fitting.surface import SurfaceSamples
from core.garment.parse import GarmentParse
from core.garment.registry import REGISTRY
from core.mesh.export import garment_node

LAYER_GAP = 0.004  # each layer sits this much further out than the one under it


@dataclass(frozen=True)
class FitLayer:
    mesh: trimesh.Trimesh  # garment in its own frame (origin at its anchor)
    category: str
    name: str
    parse: GarmentParse | None = None  # stored with the garment; parsed at the fit without it
    openings: int | None = None  # counted when the garment was made (its stats); counted at the fit without

    def closed(self) -> bool:
        """Whether the garment has no opening a hand could pass through (openings.is_closed)."""
        return is_closed(self.mesh) if self.openings is None else self.openings == 0


@dataclass
class FitResult:
    scene: trimesh.Scene
    garments: list[trimesh.Trimesh]
    metrics: dict


def fit(layers: list[FitLayer], body: BodyModel, offset_mm: float = 4.0, ease: str = "regular",
        tuck_in: bool = False) -> FitResult:
    """Dress the body, inner layers first; each layer clears the body by its offset and the layers
    under it by LAYER_GAP. `tuck_in` puts tops under the waistband of bottoms instead of over it.
    Long because it reads as the fit's steps in their order, each one line."""
    t0 = time.perf_counter()
    order = {name: c.layer for name, c in REGISTRY.items()} | ({"top": -1} if tuck_in else {})
    ordered = sorted(layers, key=lambda layer: order[layer.category])
    scene = trimesh.Scene()
    scene.add_geometry(body.mesh, node_name="avatar", geom_name="avatar")
    fitted: list[trimesh.Trimesh] = []
    inner: list[SurfaceSamples] = []
    per_layer = []
    for depth, layer in enumerate(ordered):
        offset = offset_mm / 1000.0 + depth * LAYER_GAP

        def clear(v: np.ndarray, offset: float = offset, exact: bool = True, only=None) -> np.ndarray:
            v = push_out(v, body, offset, exact=exact, only=only)
            for shell in inner:
                v = push_out_of_layer(v, shell, LAYER_GAP)
            return v

        # an open garment's openings are its own: a bone through its cloth is no cap
        placed, openings = place(layer.mesh, layer.category, body, ease, layer.parse, layer.closed())
        cloth = Cloth.of(placed)  # the cloth keeps its faces: the same edges before and after
        before = cloth.lengths(placed.vertices)
        v = clear(placed.vertices, exact=False)
        weights = hug_weights(v, layer.category)
        v = clear(hug(v, body, offset, weights), exact=False, only=np.flatnonzero(weights > 0))
        garment = settle(placed, v, clear, cloth)  # its final clear is exact
        surface, keep = clear_surface(garment.vertices, garment.faces, body, offset, clear, cloth)
        garment.vertices = clear(surface, only=np.flatnonzero((surface != garment.vertices).any(axis=1)))
        if not keep.all():
            garment.update_faces(keep)
        report = layer_report(garment, body, cloth, before, garment_node(layer.name))
        report["faces_cut_share"] = float(1 - keep.mean())  # faces across a part thinner than themselves
        report["openings_cut"] = openings  # caps a closed garment had across the neck, hands, legs
        # Vertices pushed onto the same spot leave zero-area faces: drop them (Draco would anyway);
        # and the vertices of faces cut away above (kept until the report, whose edges index them),
        # which would go out with no normal.
        keep = garment.nondegenerate_faces()
        if not keep.all():
            garment.update_faces(keep)
        garment.remove_unreferenced_vertices()
        name = garment_node(layer.name)
        garment.metadata["category"] = layer.category  # the mesh's glTF extras (three.js: its userData)
        scene.add_geometry(garment, node_name=name, geom_name=name)
        fitted.append(garment)
        if depth + 1 < len(ordered):  # only an outer layer needs this one's surface
            inner.append(SurfaceSamples.of(garment))
        per_layer.append(report)
    metrics = {
        "inside_share": max((r["inside_share"] for r in per_layer), default=0.0),
        "max_penetration_mm": max((r["max_penetration_mm"] for r in per_layer), default=0.0),
        "surface_inside_share": max((r["surface_inside_share"] for r in per_layer), default=0.0),
        "surface_deepest_mm": max((r["surface_deepest_mm"] for r in per_layer), default=0.0),
        "below_soles_mm": max((r["below_soles_mm"] for r in per_layer), default=0.0),
        "layers": per_layer,
        "offset_mm": offset_mm,
        "ease": ease,
        "tuck_in": tuck_in,
        "time_s": round(time.perf_counter() - t0, 3),
    }
    return FitResult(scene=scene, garments=fitted, metrics=metrics)


def _deepest_mm(inside_points: np.ndarray, body: BodyModel) -> float:
    """Exact depth of the deepest vertex inside the body (none, in a correct fit)."""
    if not len(inside_points):
        return 0.0
    _, dist, _ = trimesh.proximity.closest_point(body.mesh, inside_points)
    return float(dist.max() * 1000)


def layer_report(garment: trimesh.Trimesh, body: BodyModel, cloth: Cloth, edges_before: np.ndarray,
                 name: str) -> dict:
    """Share of vertices inside the body, deepest penetration, clearance percentiles, edge stretch;
    then what the vertices cannot show (core/fitting/report.py): cloth inside between them, below
    the soles, hem and cuffs against the landmarks, limbs enclosed, standoff, symmetry."""
    signed, _, _ = body.surface_query(garment.vertices)
    inside = body.contains(garment.vertices)  # exact (ray parity near the skin), independent of the samples
    near = signed[signed < 0.05]  # clearance where the garment is on or near the body
    stretch = cloth.lengths(garment.vertices) / np.maximum(edges_before, 1e-9)
    return {
        "name": name,
        "vertices": len(garment.vertices),
        "inside_share": float(inside.mean()),
        "max_penetration_mm": _deepest_mm(garment.vertices[inside], body),
        "clearance_mm_p5": float(np.percentile(near, 5) * 1000) if len(near) else None,
        "clearance_mm_p50": float(np.percentile(near, 50) * 1000) if len(near) else None,
        "stretch_median": float(np.median(stretch)),
        "stretch_p95": float(np.percentile(stretch, 95)),
    } | garment_report(garment, body)
