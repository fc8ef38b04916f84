"""From triplanes to a mesh: query the SDF on the grid, then FlexiCubes (default) or marching
cubes (scikit-image), selectable, both on the same planes."""

from __future__ import annotations

import numpy as np
import torch

from core.ai.ml.instantmesh import flexicubes
from core.ai.ml.instantmesh.model import InstantMesh
from core.errors import PipelineError

METHODS = ("flexicubes", "marching_cubes")
DEFORMATION_MULTIPLIER = 4.0
CHUNK = 1 << 18  # points per query: bounds the head's activations (the weight head takes 8 corners)


def grid_vertices(res: int, scale: float, device: torch.device | str = "cpu") -> torch.Tensor:
    """All (i, j, k)/res − 0.5 for i, j, k in 0..res, lexicographic (x slowest), times `scale`."""
    t = torch.arange(res + 1, device=device, dtype=torch.float32) / res - 0.5
    return torch.stack(torch.meshgrid(t, t, t, indexing="ij"), -1).reshape(-1, 3) * scale


@torch.no_grad()
def query_grid(model: InstantMesh, planes: torch.Tensor, res: int) -> tuple[torch.Tensor, torch.Tensor]:
    """SDF [(res+1)³] and deformed grid vertices [(res+1)³, 3] (fp32, on the planes' device)."""
    x = grid_vertices(res, model.cfg.grid_scale, planes.device)
    sdf, deform = [], []
    for chunk in x.split(CHUNK):
        s, d = model.synthesizer.sdf_deformation(planes, chunk[None])
        sdf.append(s[0].float())
        deform.append(d[0].float())
    offset = torch.tanh(torch.cat(deform)) / (res * DEFORMATION_MULTIPLIER)
    return torch.cat(sdf), x + offset


@torch.no_grad()
def extract_mesh(model: InstantMesh, planes: torch.Tensor, method: str = "flexicubes",
                 res: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Vertices [N, 3] float32 (model units, z up) and faces [F, 3] int64, normals outwards."""
    if method not in METHODS:
        raise PipelineError(f"Unknown surface method {method!r}; choose one of: {', '.join(METHODS)}.")
    res = res or model.cfg.grid_res
    sdf, x = query_grid(model, planes, res)
    interior = sdf.view(res + 1, res + 1, res + 1)[1:-1, 1:-1, 1:-1]
    if not len(interior) or bool((interior < 0).all()) or bool((interior >= 0).all()):
        raise PipelineError("The reconstruction found no surface (the SDF has one sign everywhere).")
    if method == "marching_cubes":
        return marching_cubes(sdf.cpu().numpy(), res, model.cfg.grid_scale)
    cubes, case = flexicubes.surface_cubes(sdf, res)
    # The weight head reads the features of each cube's 8 grid corners (before deformation).
    corners = grid_vertices(res, model.cfg.grid_scale, planes.device)[flexicubes.cube_corner_ids(cubes, res)]
    weights = torch.cat([model.synthesizer.weights(planes, c[None])[0].float()
                         for c in corners.split(CHUNK // 8)])
    v, f = flexicubes.extract(x, sdf, res, cubes, case, weights)
    return v.cpu().numpy().astype(np.float32), f.cpu().numpy().astype(np.int64)


def marching_cubes(sdf: np.ndarray, res: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Lorensen–Cline on the undeformed grid (scikit-image); the learned deformation and weights
    are FlexiCubes-specific and not used here."""
    from skimage.measure import marching_cubes as mc

    v, f, _, _ = mc(sdf.reshape(res + 1, res + 1, res + 1), level=0.0, gradient_direction="descent")
    return ((v / res - 0.5) * scale).astype(np.float32), f.astype(np.int64)
