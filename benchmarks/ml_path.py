"""Benchmark: the GPU path (Zero123++ → InstantMesh → surface → colour → cleanup/export), per stage,
with peak memory, on whatever device it finds.

Usage: python benchmarks/ml_path.py [--full] [--device cpu|cuda] [--surface flexicubes|marching_cubes]

Default: a smoke run with tiny random models saved in the official layouts and loaded through the
real loading code (on a CPU: plumbing, not speed). --full: the full-size architectures with random
weights (fp16 diffusion, fp32 InstantMesh-large, 128³ grid) at the low and med step counts; meant
for a CUDA GPU (see benchmarks/gpu_check.sh). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
import trimesh
from common import peak_rss_mb
from ml_models import build_all, full_multiview, random_instantmesh

from core.ai.ml import gpu, weights
from core.ai.ml.instantmesh.config import VARIANTS
from core.ai.ml.instantmesh.surface import extract_mesh
from core.ai.ml.multiview import square_on_white
from core.ai.ml.reconstruct import Stages, colour_mesh, models, run_models, to_garment_frame
from core.config import Settings
from core.mesh.cleanup import decimate
from core.pipeline import finish_garment
from core.samples import draw_garment


def vram_gb() -> float:
    return torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--surface", default="flexicubes")
    args = ap.parse_args()
    dev = args.device
    s = Settings()
    steps = {"low": s.ml_steps_low, "med": s.ml_steps_med} if args.full else {"low": 2, "med": 3}
    print(f"device: {dev} ({torch.cuda.get_device_name() if dev == 'cuda' else 'CPU'}), "
          f"{'full-size random weights' if args.full else 'tiny random weights'}, steps {steps}")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        if args.full:
            mv = full_multiview(dev, gpu.diffusion_dtype(dev), Path(tmp))
            im = random_instantmesh(VARIANTS["large"], device=dev)
        else:
            files = weights.expected(Settings(model_path=build_all(Path(tmp))))
            mv, im = models(files, "large", dev)
        print(f"load: {time.perf_counter() - t0:.2f} s")
        image = square_on_white(draw_garment("top")[0].convert("RGBA"))
        for quality, n in steps.items():
            if dev == "cuda":
                torch.cuda.reset_peak_memory_stats()
            stages = Stages()
            _, planes, v, f = run_models(mv, im, image, n, 42, args.surface, stages)
            with stages("decimate"):
                mesh = decimate(trimesh.Trimesh(v, f, process=False), 20_000)
            with stages("colour"):
                mesh = colour_mesh(im, planes, mesh.vertices, mesh.faces, "vertex", 512)
            with stages("cleanup+export+thumbnail"):
                files_out = finish_garment(to_garment_frame(mesh, "top"), "top")
            total = sum(stages.timings.values())
            per_stage = ", ".join(f"{k}={v:.3f}s" for k, v in stages.timings.items())
            print(f"{quality} ({n} steps): {per_stage}, total={total:.3f}s, raw faces={len(f)}, "
                  f"glb={len(files_out.glb)} B, peak VRAM={vram_gb():.2f} GB")
        t0 = time.perf_counter()
        _, f2 = extract_mesh(im, planes, "marching_cubes" if args.surface == "flexicubes" else "flexicubes")
        print(f"other surface method on the same planes: {time.perf_counter() - t0:.3f}s, "
              f"{len(f2)} faces (vs {len(f)})")
    print(f"peak RSS: {peak_rss_mb():.0f} MB, peak VRAM: {vram_gb():.2f} GB")


if __name__ == "__main__":
    main()
