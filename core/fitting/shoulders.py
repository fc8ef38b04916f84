"""How much of the shoulders a top wears: cloth cut away with a closed garment's neck cap, or a
neckline pulled wide, leaves them bare, and no other figure of the report sees it (no cloth is inside
the body, the sleeves still enclose the arms)."""

from __future__ import annotations

import numpy as np
import trimesh

from core.fitting.body import BodyModel

ALONG = (0.5, 0.65, 0.8)  # stations from the neck (its own width is the first third) to the shoulder joint
ACROSS_M = (-0.03, 0.0, 0.03)  # and from front to back of the shoulder's seam line


def shoulder_cover(garment: trimesh.Trimesh, body: BodyModel) -> float:
    """The share of rays cast straight down onto the shoulders (ALONG x ACROSS_M per side) that
    meet the garment: 1 for a T-shirt worn on them, 0 for one worn off them or a bandeau."""
    if not len(garment.faces) or not all(name in body.landmarks for name in ("neck", "shoulder_l", "shoulder_r")):
        return 0.0
    neck = body.point("neck")
    top = float(body.mesh.bounds[1, 1]) + 0.1
    starts = np.array([[neck[0] + t * (body.point(f"shoulder_{side}")[0] - neck[0]), top,
                        body.point(f"shoulder_{side}")[2] + dz]
                       for side in "lr" for t in ALONG for dz in ACROSS_M])
    hits = garment.ray.intersects_any(starts, np.tile([0.0, -1.0, 0.0], (len(starts), 1)))
    return float(np.mean(hits))
