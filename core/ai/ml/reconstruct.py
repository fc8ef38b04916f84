"""The ML reconstruction end to end: cut-out → 6 views → triplanes → surface → colour → the
project's garment frame. What follows (cleanup, export, thumbnail) is the common path in
core/pipeline.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import trimesh
from PIL import Image

from core.ai.ml import gpu, weights
from core.ai.ml.cameras import input_cameras, split_grid
from core.ai.ml.instantmesh.model import InstantMesh
from core.ai.ml.instantmesh.surface import extract_mesh
from core.ai.ml.instantmesh.texture import texture_map, vertex_colours
from core.ai.ml.multiview import MultiView, square_on_white
from core.ai.segment import Cutout
from core.config import Settings
from core.errors import PipelineError, Unavailable
from core.garment.registry import REGISTRY
from core.gpu import gpu_task
from core.mesh.cleanup import decimate

# Faces kept after extraction and texture side, per quality (the SPEC's 512 px / 768+ px).
QUALITY = {"low": {"faces": 20_000, "texture": 512}, "med": {"faces": 60_000, "texture": 1024}}
# InstantMesh's world is z up and the input view looks from +x: (x, y, z) ↦ (y, z, x) puts the
# garment +Y up, facing +Z (a rotation, so faces keep their winding).
TO_GLTF = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=np.float64)


@dataclass
class Stages:
    timings: dict[str, float] = field(default_factory=dict)
    progress: Callable[[str], None] | None = None

    def __call__(self, name: str):
        return _Stage(self, name)


class _Stage:
    def __init__(self, owner: Stages, name: str) -> None:
        self.owner, self.name = owner, name

    def __enter__(self) -> None:
        if self.owner.progress:
            self.owner.progress(self.name)
        self.t0 = time.perf_counter()

    def __exit__(self, *exc) -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        self.owner.timings[self.name] = round(time.perf_counter() - self.t0, 4)


def models(files: weights.WeightFiles, variant: str, device: str) -> tuple[MultiView, InstantMesh]:
    """Both models for this process, loaded on first use and then reused."""
    mv = gpu.cached("multiview", files.zero123, files.white_unet, device, gpu.diffusion_dtype(device))
    im = gpu.cached("instantmesh", files.instantmesh, variant, device)
    return mv, im  # type: ignore[return-value]


def cutout_rgba(cutout: Cutout) -> Image.Image:
    return Image.fromarray(np.dstack([cutout.rgb, cutout.mask.astype(np.uint8) * 255]), "RGBA")


@torch.no_grad()
def run_models(mv: MultiView, im: InstantMesh, image: Image.Image, steps: int, seed: int, surface: str,
               stages: Stages) -> tuple[np.ndarray, torch.Tensor, np.ndarray, np.ndarray]:
    """Views grid [960, 640, 3], triplanes, and the raw mesh (model units)."""
    dev = next(im.parameters()).device
    with stages("multi-view"):
        grid = mv.generate(image, steps=steps, seed=seed)
    with stages("triplanes"):
        views = torch.from_numpy(split_grid(grid)).to(dev)[None]
        size = im.cfg.input_size
        if views.shape[-1] != size:
            views = torch.nn.functional.interpolate(views[0], size=(size, size), mode="bicubic",
                                                    antialias=True).clamp(0, 1)[None]
        cams = torch.from_numpy(input_cameras()).to(dev)[None]
        planes = im.forward_planes(views, cams)
    with stages("surface"):
        v, f = extract_mesh(im, planes, surface)
    return grid, planes, v, f


def colour_mesh(im: InstantMesh, planes: torch.Tensor, v: np.ndarray, f: np.ndarray, texture: str,
                tex_side: int) -> trimesh.Trimesh:
    if texture == "vertex":
        return trimesh.Trimesh(v, f, vertex_colors=vertex_colours(im, planes, v), process=False)
    v2, f2, uv, image = texture_map(im, planes, v, f, tex_side)
    material = trimesh.visual.material.PBRMaterial(name="garment", baseColorTexture=image,
                                                   metallicFactor=0.0, roughnessFactor=0.9)
    return trimesh.Trimesh(v2, f2, visual=trimesh.visual.TextureVisuals(uv=uv, material=material), process=False)


def to_garment_frame(mesh: trimesh.Trimesh, category: str) -> trimesh.Trimesh:
    """Metres, +Y up, facing +Z, scaled to the category's real height, origin at the top centre
    (the anchor the silhouette path and fitting use)."""
    v = mesh.vertices @ TO_GLTF.T
    lo, hi = v.min(axis=0), v.max(axis=0)
    if hi[1] - lo[1] <= 0:
        raise PipelineError("The reconstructed mesh is flat.")
    v = (v - [(lo[0] + hi[0]) / 2, hi[1], (lo[2] + hi[2]) / 2]) * (REGISTRY[category].length_m / (hi[1] - lo[1]))
    mesh.vertices = v
    return mesh


def reconstruct(cutout: Cutout, category: str, quality: str, settings: Settings,
                progress: Callable[[str], None] | None = None) -> tuple[trimesh.Trimesh, dict[str, float]]:
    """The garment mesh in the project's frame, and the time of each stage."""
    device = gpu.device_name(settings)
    if device is None:
        raise Unavailable("zero123+instantmesh needs a CUDA GPU (or ML_DEVICE=cpu).")
    stages = Stages(progress=progress)
    steps = settings.ml_steps_low if quality == "low" else settings.ml_steps_med
    q = QUALITY[quality]
    with stages("weights"):
        files = weights.ensure(settings, progress)

    @gpu_task(int(settings.generate_timeout_s))
    def on_gpu() -> trimesh.Trimesh:
        with stages("loading models"):
            mv, im = models(files, settings.instantmesh_variant, device)
        _, planes, v, f = run_models(mv, im, square_on_white(cutout_rgba(cutout)), steps, settings.ml_seed,
                                     settings.ml_surface, stages)
        with stages("decimate"):
            mesh = decimate(trimesh.Trimesh(v, f, process=False), q["faces"])
        with stages("colour"):
            return colour_mesh(im, planes, mesh.vertices, mesh.faces, settings.ml_texture, q["texture"])

    with gpu.gpu_slot(settings, progress), gpu.out_of_memory_as_error():
        mesh = on_gpu()
    return to_garment_frame(mesh, category), stages.timings
