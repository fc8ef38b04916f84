"""The reconstructors behind one interface, chosen in one place by the requested model name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.ai import silhouette
from core.ai.segment import Cutout
from core.config import Settings
from core.errors import InputError

MODELS = ("auto", "silhouette", "zero123+instantmesh")


class Reconstructor(Protocol):
    name: str

    def available(self, settings: Settings) -> tuple[bool, str]: ...
    def reconstruct(self, cutout: Cutout, category: str, quality: str) -> silhouette.Garment3D: ...


@dataclass(frozen=True)
class SilhouetteReconstructor:
    name: str = "silhouette"

    def available(self, settings: Settings) -> tuple[bool, str]:
        return True, "runs on the CPU without weights"

    def reconstruct(self, cutout: Cutout, category: str, quality: str) -> silhouette.Garment3D:
        return silhouette.reconstruct(cutout, category, quality)


@dataclass(frozen=True)
class InstantMeshReconstructor:
    """Zero123++ multi-view + InstantMesh; needs a CUDA GPU and weights."""

    name: str = "zero123+instantmesh"

    def available(self, settings: Settings) -> tuple[bool, str]:
        try:
            import torch
        except ImportError:
            return False, "PyTorch is not installed"
        if not torch.cuda.is_available():
            return False, "no CUDA GPU on this machine"
        return False, "the Zero123++/InstantMesh pipeline is not built into this version yet"

    def reconstruct(self, cutout: Cutout, category: str, quality: str) -> silhouette.Garment3D:
        raise InputError("zero123+instantmesh is not available on this machine")


REGISTRY: dict[str, Reconstructor] = {r.name: r for r in (SilhouetteReconstructor(), InstantMeshReconstructor())}


def resolve(model: str, settings: Settings) -> tuple[Reconstructor, str]:
    """The reconstructor for a requested model name, and a note on why it was chosen."""
    if model not in MODELS:
        raise InputError(f"Unknown model {model!r}; choose one of: {', '.join(MODELS)}.")
    if model == "auto":
        ml = REGISTRY["zero123+instantmesh"]
        ok, why = ml.available(settings)
        if ok:
            return ml, "auto: GPU and weights available"
        return REGISTRY["silhouette"], f"auto: fell back to silhouette ({why})"
    chosen = REGISTRY[model]
    ok, why = chosen.available(settings)
    if not ok:
        raise InputError(f"The model {model!r} cannot run here: {why}. Use 'silhouette' or 'auto'.")
    return chosen, f"{model}: {why}"
