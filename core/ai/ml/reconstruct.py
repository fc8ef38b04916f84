"""The ML reconstruction end to end: cut-out → 6 views → triplanes → surface → colour → the
project's garment frame. What follows (cleanup, then the export step) is the common path in
core/pipeline/."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch
import trimesh
from PIL import Image

from core.ai.ml import gpu, weights
from core.ai.ml.cameras import TILE, input_cameras, split_grid
from core.ai.ml.instantmesh.model import InstantMesh
from core.ai.ml.instantmesh.surface import extract_mesh
from core.ai.ml.instantmesh.texture import texture_map, vertex_colours
from core.ai.ml.multiview import MultiView, square_on_white
from core.ai.segment import Cutout
from core.config import Settings
from core.errors import PipelineError, Unavailable
from core.garment.registry import REGISTRY
from core.gpu import active as zero_gpu_active
from core.gpu import gpu as gpu_call
from core.mesh.cleanup import decimate
from core.quality import QUALITY

# InstantMesh's world is z up and the input view looks from +x: (x, y, z) ↦ (y, z, x) puts the
# garment +Y up, facing +Z (a rotation, so faces keep their winding).
TO_GLTF = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=np.float64)
FEATHER_PX = 2.0  # width of the cut-out's soft edge, in pixels of the model's 320 px input


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
    """The cut-out with a soft alpha, as Zero123++ was trained on matted images: the mask feathered
    inwards over FEATHER_PX pixels of the model's 320 px input, so that compositing on white
    leaves no hard, aliased rim (and no halo of the photo's background, which stays at alpha 0)."""
    mask = cutout.mask.astype(np.uint8)
    width = max(1.0, FEATHER_PX * max(mask.shape) / TILE)
    inside = cv2.distanceTransform(mask, cv2.DIST_L2, 3)  # ≈ 1 on the mask's edge, more inwards
    alpha = np.clip(inside / (width + 1), 0.0, 1.0) * 255
    return Image.fromarray(np.dstack([cutout.rgb, np.round(alpha).astype(np.uint8)]), "RGBA")


@dataclass(frozen=True)
class GpuTask:
    """Everything the GPU call needs, picklable: on ZeroGPU it is sent to the forked process that
    holds the GPU, so it names the models (loaded in the serving process) rather than carrying them."""

    image: np.ndarray  # [S, S, 3] uint8, the cut-out squared on white
    files: weights.WeightFiles
    variant: str
    device: str
    steps: int
    seed: int
    surface: str
    faces: int
    texture: str
    texture_side: int
    duration_s: int  # asked of ZeroGPU for this call


@dataclass
class GpuResult:
    """The coloured mesh in model units and each stage's time, or the error that stopped it (sent
    back as a value: ZeroGPU passes only Gradio's own errors through with their message)."""

    mesh: trimesh.Trimesh | None = None
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    process: int = 0  # the process that ran it, and the models it has loaded so far
    model_loads: int = 0


def gpu_seconds(task: GpuTask, progress: Callable[[str], None] | None = None) -> int:
    """ZeroGPU's `duration` for one call: the task's own (from its quality)."""
    return task.duration_s


@gpu_call(duration=gpu_seconds)
def run_on_gpu(task: GpuTask, progress: Callable[[str], None] | None = None) -> GpuResult:
    """The GPU part of a reconstruction, and nothing else: views, triplanes, surface, decimation
    to the quality's faces, colour. Defined once, at import, so that ZeroGPU registers it before
    launch; the models come from this process (loaded at start-up, or on first use)."""
    stages = Stages(progress=progress)
    try:
        with gpu.out_of_memory_as_error():
            with stages("loading models"):
                mv, im = models(task.files, task.variant, task.device)
            _, planes, v, f = run_models(mv, im, Image.fromarray(task.image), task.steps, task.seed, task.surface,
                                         stages)
            with stages("decimate"):
                mesh = decimate(trimesh.Trimesh(v, f, process=False), task.faces)
            with stages("colour"):
                mesh = colour_mesh(im, planes, mesh.vertices, mesh.faces, task.texture, task.texture_side)
    except PipelineError as exc:
        return GpuResult(timings=stages.timings, error=str(exc), process=os.getpid(), model_loads=gpu.LOADS["count"])
    return GpuResult(mesh, stages.timings, process=os.getpid(), model_loads=gpu.LOADS["count"])


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
                progress: Callable[[str], None] | None = None) -> tuple[trimesh.Trimesh, dict[str, float], dict]:
    """The garment mesh in the project's frame, the time of each stage, and where it ran (the
    job's stats: which process, how many model loads it has made, whether through ZeroGPU)."""
    device = gpu.device_name(settings)
    if device is None:
        raise Unavailable("zero123+instantmesh needs a CUDA GPU (or ML_DEVICE=cpu).")
    stages = Stages(progress=progress)
    q = QUALITY[quality]
    with stages("weights"):
        files = gpu.PRELOADED.get("files") or weights.ensure(settings, progress)
    task = GpuTask(image=np.asarray(square_on_white(cutout_rgba(cutout))), files=files,
                   variant=settings.instantmesh_variant, device=device,
                   steps=settings.ml_steps_low if quality == "low" else settings.ml_steps_med, seed=settings.ml_seed,
                   surface=settings.ml_surface, faces=q.decimated_faces, texture=settings.ml_texture,
                   texture_side=q.texture_px, duration_s=gpu_duration_s(settings, quality))
    if zero_gpu_active():
        out = _on_zero_gpu(task, progress)
    else:
        with gpu.gpu_slot(settings, progress):
            out = run_on_gpu(task, progress)
    stages.timings.update(out.timings)
    if out.error is not None or out.mesh is None:
        raise PipelineError(out.error or "The GPU call returned no mesh.")
    where = {"device": device, "zero_gpu": zero_gpu_active(), "process": out.process, "model_loads": out.model_loads}
    return to_garment_frame(out.mesh, category), stages.timings, {"gpu": where}


def gpu_duration_s(settings: Settings, quality: str) -> int:
    """Seconds of GPU asked per call at this quality (ZEROGPU_DURATION_LOW_S / _MED_S)."""
    return settings.zerogpu_duration_low_s if quality == "low" else settings.zerogpu_duration_med_s


def _on_zero_gpu(task: GpuTask, progress: Callable[[str], None] | None) -> GpuResult:
    """The call through ZeroGPU: from this thread, whose context is the visitor's request (the
    job runner's ZeroGPU lane runs the job in it), so the visitor's quota pays. No callback goes
    along: the call runs in a forked process, which must not write to the database."""
    if progress:
        progress("on the GPU")
    try:
        return run_on_gpu(task)
    except Exception as exc:  # ZeroGPU's own failures (quota, no GPU, aborted) end the job
        raise PipelineError(f"ZeroGPU: {exc}") from exc
