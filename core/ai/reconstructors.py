"""The reconstructors behind one interface, chosen in one place by the requested model name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from core.ai import silhouette
from core.ai.segment import Cutout
from core.config import Settings, get_settings
from core.errors import InputError
from core.garment.parse import GarmentParse

MODELS = ("auto", "silhouette", "zero123+instantmesh")
# What each model runs on and under which licence, for the README and the UI.
LICENCES = {
    "silhouette": "no model weights (this project's code)",
    "zero123+instantmesh": (
        "Zero123++ v1.2 weights (sudo-ai/zero123plus-v1.2) and InstantMesh's white-background UNet "
        "fine-tuned from them: CC BY-NC 4.0, non-commercial use only; InstantMesh reconstruction weights "
        "(TencentARC/InstantMesh): Apache-2.0"),
}
Progress = Callable[[str], None]


def licence_note(model: str) -> str:
    """One line naming the weights a model uses and their licences (shown in the UI)."""
    if model == "auto":
        return f"auto: the GPU path where it can run ({LICENCES['zero123+instantmesh']}), else silhouette"
    return f"{model}: {LICENCES[model]}"


class Reconstructor(Protocol):
    name: str
    gpu: bool  # runs in the job runner's GPU lane

    def available(self, settings: Settings) -> tuple[bool, str]: ...
    def reconstruct(self, cutout: Cutout, category: str, quality: str, on_progress: Progress | None = None,
                    back: Cutout | None = None, parse: GarmentParse | None = None) -> silhouette.Garment3D: ...


@dataclass(frozen=True)
class SilhouetteReconstructor:
    name: str = "silhouette"
    gpu: bool = False

    def available(self, settings: Settings) -> tuple[bool, str]:
        return True, "runs on the CPU without weights"

    def reconstruct(self, cutout: Cutout, category: str, quality: str, on_progress: Progress | None = None,
                    back: Cutout | None = None, parse: GarmentParse | None = None) -> silhouette.Garment3D:
        return silhouette.reconstruct(cutout, category, quality, back, parse)


@dataclass(frozen=True)
class InstantMeshReconstructor:
    """Zero123++ multi-view + InstantMesh (core/ai/ml); needs a CUDA GPU (or ML_DEVICE=cpu) and weights."""

    name: str = "zero123+instantmesh"
    gpu: bool = True
    settings: Settings | None = None

    def available(self, settings: Settings) -> tuple[bool, str]:
        try:
            from core.ai.ml import gpu, weights
        except ImportError as exc:
            return False, f"a package of the GPU path is not installed ({exc.name})"
        if gpu.PRELOADED:  # this process holds the models (ZeroGPU: loaded before launch)
            return True, f"{gpu.PRELOADED['source']}, loaded at start-up, on {gpu.PRELOADED['device']}"
        device = gpu.device_name(settings)
        if device is None:
            return False, "no CUDA GPU on this machine"
        ok, why = weights.status(settings)
        return ok, f"{why}, on {device}"

    def reconstruct(self, cutout: Cutout, category: str, quality: str, on_progress: Progress | None = None,
                    back: Cutout | None = None, parse: GarmentParse | None = None) -> silhouette.Garment3D:
        """The back comes from the model's own views of the garment (Zero123++ sees it from behind);
        a back photo is not used, which the job's record says; the parse is not needed (the model
        sees where the garment is open)."""
        from core.ai.ml.reconstruct import reconstruct

        mesh, timings, stats = reconstruct(cutout, category, quality, self.settings or get_settings(), on_progress)
        back = {"source": "generated"} | ({"photo": "not used by this model"} if back is not None else {})
        return silhouette.Garment3D(mesh=mesh, category=category, timings=timings, stats=stats | {"back": back})


REGISTRY: dict[str, Reconstructor] = {r.name: r for r in (SilhouetteReconstructor(), InstantMeshReconstructor())}


def resolve(model: str, settings: Settings) -> tuple[Reconstructor, str]:
    """The reconstructor for a requested model name, and a note on why it was chosen."""
    if model not in MODELS:
        raise InputError(f"Unknown model {model!r}; choose one of: {', '.join(MODELS)}.")
    if model == "auto":
        ml = REGISTRY["zero123+instantmesh"]
        ok, why = ml.available(settings)
        if ok:
            return replace(ml, settings=settings), f"auto: {why}"
        return REGISTRY["silhouette"], f"auto: fell back to silhouette ({why})"
    chosen = REGISTRY[model]
    if isinstance(chosen, InstantMeshReconstructor):
        chosen = replace(chosen, settings=settings)
    ok, why = chosen.available(settings)
    if not ok:
        raise InputError(f"The model {model!r} cannot run here: {why}. Use 'silhouette' or 'auto'.")
    return chosen, f"{model}: {why}"
