"""GPU discipline for the ML path: device and dtype, models loaded once per process, a bounded
number of concurrent GPU jobs, out-of-memory as a job error (ZeroGPU's decorator: `core.gpu`).

On a CUDA machine GPU jobs run in the runner's GPU lane (core/jobs/pool.py): GPU_CONCURRENCY worker
processes, each holding the models once; a job past its time limit has its process killed, which
is what frees its GPU memory for certain. On ZeroGPU the serving process loads the models at
start-up (`core/ai/ml/startup.py`). The lock files bound GPU jobs across every process sharing a DATA_DIR
(Celery workers too; a killed worker's lock is released by the OS).
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

from core.config import Settings
from core.errors import PipelineError

log = logging.getLogger("fitroom.gpu")


def device_name(settings: Settings) -> str | None:
    """'cuda', 'cpu' (only when ML_DEVICE=cpu asks for it: slow, meant for tests) or None."""
    try:
        import torch
    except ImportError:
        return None
    if settings.ml_device == "cpu":
        return "cpu"
    return "cuda" if torch.cuda.is_available() else None


def diffusion_dtype(device: str):
    import torch

    return torch.float16 if device == "cuda" else torch.float32


@contextmanager
def gpu_slot(settings: Settings, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold one of GPU_CONCURRENCY slots for the block (waits for a free one)."""
    folder = settings.cache_dir / "gpu-slots"
    folder.mkdir(parents=True, exist_ok=True)
    handles = [open(folder / f"slot-{i}.lock", "a+") for i in range(settings.gpu_concurrency)]  # noqa: SIM115
    try:
        announced = False
        while True:
            for h in handles:
                try:
                    fcntl.flock(h, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                try:
                    yield
                finally:
                    fcntl.flock(h, fcntl.LOCK_UN)
                return
            if not announced and on_wait:
                on_wait("waiting for the GPU")
                announced = True
            time.sleep(0.2)
    finally:
        for h in handles:
            h.close()


@contextmanager
def out_of_memory_as_error() -> Iterator[None]:
    """A CUDA out-of-memory error becomes a job error with a message; the cache is emptied so the
    worker keeps serving."""
    import torch

    try:
        yield
    except torch.cuda.OutOfMemoryError as exc:
        torch.cuda.empty_cache()
        raise PipelineError("The GPU ran out of memory for this garment; try quality 'low' or retry "
                            "when fewer jobs run.") from exc


LOADS = {"count": 0}  # models loaded by this process (a job's stats report it: loaded once, reused)
# The weight files whose models startup.preload loaded at start-up: jobs use those models and no longer
# look at the files (on ZeroGPU the packed tensors replace them, and the files may be pruned).
PRELOADED: dict[str, object] = {}


@lru_cache(maxsize=2)
def cached(kind: str, *key) -> object:
    """Models by (kind, paths, device): loaded on first use (on the CPU, then moved to the
    device), then reused by the process."""
    from core.ai.ml.instantmesh.model import load_instantmesh
    from core.ai.ml.multiview import load_multiview

    t0 = time.perf_counter()
    model = load_multiview(*key) if kind == "multiview" else load_instantmesh(*key)
    LOADS["count"] += 1
    log.info("loaded %s in %.1f s", kind, time.perf_counter() - t0)
    return model
