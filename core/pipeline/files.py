"""What a job stores: each function is a library call (garments.py, outfits.py) followed by the
export step (export.py), timed in the same stages the page's progress bars read."""

from __future__ import annotations

from dataclasses import dataclass

import trimesh
from PIL import Image

from core.ai.reconstructors import Reconstructor
from core.ai.segment import CLASSICAL, Segmenter
from core.fitting.body import BodyModel
from core.fitting.fit import FitLayer
from core.mesh.export import mesh_to_obj_zip
from core.mesh.render import turntable
from core.pipeline.export import (
    cutout_png,
    draco_compress_glb,
    garment_glb,
    outfit_glb,
    outfit_thumbnail,
    thumbnail,
)
from core.pipeline.garments import Garment, finished, garment_from_file, garment_from_photo
from core.pipeline.outfits import FittedOutfit, fit_outfit
from core.pipeline.stages import StageCallback, Timer


@dataclass(frozen=True)
class GarmentFiles:
    """A garment as a job stores it: the encoded files and the record's stats, timings and log."""

    garment: Garment
    glb: bytes
    draco_glb: bytes
    cutout_preview: bytes  # b"" for an import
    timings: dict[str, float]
    stats: dict  # the record's stats: the garment's report and the files' sizes
    log: str | None = None  # what the job's log says of how it was made

    @property
    def mesh(self) -> trimesh.Trimesh:
        return self.garment.mesh

    @property
    def category(self) -> str:
        return self.garment.category


def garment_files(garment: Garment, on_stage: StageCallback | None = None) -> GarmentFiles:
    """A garment's GLB + Draco GLB and, for a photo's, its cut-out (shown beside the garment as
    soon as it is done); its thumbnail is one of the extras, made after."""
    timer = Timer(on_stage, dict(garment.report.timings))
    with timer.stage("export"):
        glb = garment_glb(garment)
        draco = draco_compress_glb(glb)
    preview = b""
    if garment.cutout is not None:
        with timer.stage("preview"):
            preview = cutout_png(garment)
    report = garment.report
    stats = report.shape | {"glb_bytes": len(glb), "draco_bytes": len(draco)} | report.source
    return GarmentFiles(garment, glb, draco, preview, timer.timings, stats, report.log)


def photo_to_garment(image: Image.Image, category: str | None, quality: str,
                     reconstructor: Reconstructor, on_stage: StageCallback | None = None,
                     back_image: Image.Image | None = None, segmenter: Segmenter = CLASSICAL) -> GarmentFiles:
    """A garment photo (and optionally its back) to its finished files."""
    garment = garment_from_photo(image, category, quality, reconstructor, back_image=back_image,
                                 segmenter=segmenter, on_stage=on_stage)
    return garment_files(garment, on_stage)


def import_to_garment(data: bytes, filename: str | None, category: str | None, units: str, up: str,
                      max_bytes: int) -> GarmentFiles:
    """An uploaded 3D file to a finished garment's files."""
    return garment_files(garment_from_file(data, filename, category, units, up, max_bytes))


def finish_garment(mesh: trimesh.Trimesh, category: str) -> GarmentFiles:
    """Any reconstructed mesh to a garment's files: cleanup, GLB + Draco GLB."""
    return garment_files(finished(mesh, category))


@dataclass(frozen=True)
class GarmentExtras:
    """What follows a done garment, which nobody waits for."""

    thumbnail: bytes  # b"" when it could not be drawn
    obj_zip: bytes
    turntable_gif: bytes
    timings: dict[str, float]


def garment_extras(mesh: trimesh.Trimesh) -> GarmentExtras:
    """What is made after the garment is ready (and shown): the thumbnail, the OBJ zip and the turntable."""
    timer = Timer()
    with timer.stage("thumbnail"):
        thumb = thumbnail([mesh])
    with timer.stage("obj"):
        obj_zip = mesh_to_obj_zip(mesh)
    with timer.stage("turntable"):
        gif = turntable([mesh])
    return GarmentExtras(thumb, obj_zip, gif, timer.timings)


@dataclass(frozen=True)
class FittedFiles:
    """A fitting as a job stores it: the dressed avatar's files and the record's metrics and timings."""

    outfit: FittedOutfit  # the body and the fitted garments, for the thumbnail made after
    glb: bytes
    draco_glb: bytes
    metrics: dict
    timings: dict[str, float]


def dress(layers: list[FitLayer], body: BodyModel, offset_mm: float, ease: str = "regular",
          tuck_in: bool = False, on_stage: StageCallback | None = None) -> FittedFiles:
    """Garments fitted on a body, as the dressed avatar's GLB + Draco GLB."""
    outfit = fit_outfit(layers, body, offset_mm=offset_mm, ease=ease, tuck_in=tuck_in, on_stage=on_stage)
    timer = Timer(on_stage, dict(outfit.timings))
    with timer.stage("export"):
        glb = outfit_glb(outfit)
        draco = draco_compress_glb(glb)
    metrics = outfit.metrics | {"glb_bytes": len(glb), "draco_bytes": len(draco)}
    return FittedFiles(outfit, glb, draco, metrics, timer.timings)


def fitted_thumbnail(files: FittedFiles) -> tuple[bytes, dict[str, float]]:
    """A dressed avatar's thumbnail (b"" when it could not be drawn) and its timing: made after the
    fitting is done and shown."""
    timer = Timer()
    with timer.stage("thumbnail"):
        thumb = outfit_thumbnail(files.outfit)
    return thumb, timer.timings
