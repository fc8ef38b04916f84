"""Garments + body → `FittedOutfit`: the fitted meshes and the fit's report, no bytes (exporting
them is core/pipeline/export.py's step)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import trimesh

from core.avatars.presets import PRESET_SPECS, PRESETS_DIR
from core.config import Settings
from core.fitting.body import BodyModel
from core.fitting.fit import FitLayer, fit
from core.pipeline.garments import Garment
from core.pipeline.stages import StageCallback, Timer

CLEARANCE_MM = Settings.model_construct().clearance_mm  # the server's default gap to the skin
DEFAULT_PRESET = "average-man-175"


@dataclass(frozen=True)
class FittedOutfit:
    """A dressed avatar: the body and its fitted garments (glTF frame, feet on y=0)."""

    body: trimesh.Trimesh
    garments: list[trimesh.Trimesh]  # fitted, inner layer first
    scene: trimesh.Scene  # the body and the garments as the GLB's nodes ("avatar", "garment_<category>")
    metrics: dict  # the fit's report: worst layer's figures and one report per layer
    timings: dict[str, float]

    @property
    def meshes(self) -> list[trimesh.Trimesh]:
        return [self.body, *self.garments]


def preset_body(slug: str = DEFAULT_PRESET) -> BodyModel:
    """A committed avatar preset (assets/presets) as the fitting sees it: no database, no storage."""
    if slug not in {spec.slug for spec in PRESET_SPECS}:
        raise ValueError(f"no preset {slug!r}: one of {', '.join(spec.slug for spec in PRESET_SPECS)}")
    meta = json.loads((PRESETS_DIR / f"{slug}.json").read_text())
    return BodyModel(trimesh.load(PRESETS_DIR / f"{slug}.glb", force="mesh"), meta["landmarks"], meta["measurements"])


def as_layer(garment: Garment | FitLayer) -> FitLayer:
    """A garment as the fit takes it (a layer named for its category, placed by its parse)."""
    if isinstance(garment, FitLayer):
        return garment
    return FitLayer(garment.mesh, garment.category, garment.category, garment.parse, garment.report.shape["openings"])


def fit_outfit(garments: Sequence[Garment | FitLayer], body: BodyModel, offset_mm: float = CLEARANCE_MM,
               ease: str = "regular", tuck_in: bool = False, on_stage: StageCallback | None = None) -> FittedOutfit:
    """Dress `body` in `garments` (any order: each goes to its layer); `offset_mm` is the gap to the
    skin, `ease` how loose (core/fitting/placement.py), `tuck_in` tops under bottoms."""
    timer = Timer(on_stage)
    with timer.stage("fitting"):
        result = fit([as_layer(g) for g in garments], body, offset_mm=offset_mm, ease=ease, tuck_in=tuck_in)
    return FittedOutfit(body.mesh, result.garments, result.scene, result.metrics, dict(timer.timings))
