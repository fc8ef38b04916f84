"""Loading the GPU path's models at a process's start (a GPU worker's, a ZeroGPU Space's serving
process), for every later job. Apart from core/ai/ml/gpu.py, which the reconstruction imports: this
needs the reconstruction itself.
"""

from __future__ import annotations

import logging

from core import gpu as zerogpu
from core.ai.ml import gpu, reconstruct, weights
from core.config import Settings

log = logging.getLogger("fitroom.gpu")


def preload(settings: Settings) -> str:
    """Load both models now, in this process, for every later job (ZeroGPU: at start-up, before
    launch, so that its start-up hook packs them). Returns what was loaded, or why not."""
    device = gpu.device_name(settings)
    if device is None:
        return "not loaded: no CUDA GPU"
    ok, why = weights.status(settings)
    if not ok:
        return f"not loaded: {why}"
    files = weights.ensure(settings)
    reconstruct.models(files, settings.instantmesh_variant, device)
    gpu.PRELOADED.update(files=files, device=device, source=why)
    return f"loaded at start-up on {device} ({why})"


def prepare_zero_gpu(settings: Settings) -> str:
    """On a ZeroGPU Space, before launch(): the GPU function must already be registered (defined
    at import, after `spaces`) and the models loaded under ZeroGPU's CUDA emulation, so that its
    start-up hook packs them. Without the weights a job would load them inside its GPU time."""
    if not zerogpu.is_decorated(reconstruct.run_on_gpu):
        raise RuntimeError("The GPU function was defined before `spaces` was imported; "
                           "call core.gpu.activate() first thing in the serving process.")
    note = preload(settings)
    (log.info if note.startswith("loaded") else log.warning)("ZeroGPU: models %s", note)
    return note
