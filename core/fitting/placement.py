"""Category rules: where a garment goes on the body and how it is scaled."""

from __future__ import annotations

import numpy as np
import trimesh

from core.fitting.body import BodyModel

# Ease over the body's flat half-girth, per category (the garment is a little wider than the body).
EASE = {"top": 1.10, "outer": 1.22, "dress": 1.10, "bottom": 1.06}


def _width_at(vertices: np.ndarray, y: float, band: float) -> float:
    sel = np.abs(vertices[:, 1] - y) < band
    if sel.sum() < 3:
        return float(np.ptp(vertices[:, 0]))
    return float(np.ptp(vertices[sel, 0]))


def place(garment: trimesh.Trimesh, category: str, body: BodyModel) -> trimesh.Trimesh:
    """Scale and move a garment (glTF frame, origin at its anchor = top centre) onto the body.

    Tops, outerwear and dresses hang from the neck base and take the chest's width; bottoms hang
    from the waist and take the waist's width. Depth is scaled so the body fits inside.
    """
    g = garment.copy()
    v = g.vertices
    height = float(np.ptp(v[:, 1]))
    if category == "bottom":
        ref_name, anchor_y, width_y = "waist", body.point("waist")[1] + 0.02, 0.03 * height
    else:
        ref_name = "chest"
        anchor_y = body.point("neck")[1] - 0.01
        width_y = 0.45 * height  # below the sleeves, across the chest/torso
    ref_y = body.point(ref_name)[1]
    x0, x1, z0, z1 = body.torso_extent(ref_y)
    girth_key = "waist_cm" if category == "bottom" else "chest_cm"
    half_girth = body.measurements.get(girth_key, 200 * (x1 - x0)) / 200.0
    garment_width = _width_at(v, -width_y, 0.04 * height)
    s = np.clip(half_girth * EASE[category] / max(garment_width, 1e-6), 0.5, 2.0)
    body_depth = z1 - z0
    garment_depth = float(np.ptp(v[:, 2])) * s
    sz = max(1.0, 1.08 * body_depth / max(garment_depth, 1e-6)) * s
    centre = body.point("pelvis")
    transform = np.diag([s, s, sz, 1.0])
    transform[:3, 3] = [centre[0], anchor_y, (z0 + z1) / 2]
    g.apply_transform(transform)
    return g
