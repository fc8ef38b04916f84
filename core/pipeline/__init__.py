"""The pipeline as a library, free of database, storage and server: photo → `Garment`,
garments + body → `FittedOutfit` (meshes and plain reports), then export them as a separate step.

    garment = garment_from_photo(open_photo("shirt.jpg"))
    outfit = fit_outfit([garment], preset_body("average-man-175"))
    Path("dressed.glb").write_bytes(outfit_glb(outfit))

The jobs (core/tasks.py) call the compositions of core/pipeline/files.py: the same calls and the
export of what they store, timed in the stages (core/pipeline/stages.py) the page's progress reads.
"""

from core.pipeline.export import (
    cutout_png,
    draco_compress_glb,
    garment_glb,
    garment_obj_zip,
    garment_thumbnail,
    garment_turntable,
    outfit_glb,
    outfit_thumbnail,
    png_bytes,
    thumbnail,
)
from core.pipeline.files import (
    FittedFiles,
    GarmentExtras,
    GarmentFiles,
    dress,
    finish_garment,
    fitted_thumbnail,
    garment_extras,
    garment_files,
    import_to_garment,
    photo_to_garment,
)
from core.pipeline.garments import Garment, GarmentReport, garment_from_file, garment_from_photo, open_photo
from core.pipeline.outfits import FittedOutfit, fit_outfit, preset_body
from core.pipeline.stages import DRESS_STAGES, EXTRA_STAGES, PHOTO_STAGES, StageCallback, Timer, job_seconds

__all__ = [
    "DRESS_STAGES", "EXTRA_STAGES", "PHOTO_STAGES", "FittedFiles", "FittedOutfit", "Garment", "GarmentExtras",
    "GarmentFiles", "GarmentReport", "StageCallback", "Timer", "cutout_png", "draco_compress_glb", "dress",
    "finish_garment", "fit_outfit", "fitted_thumbnail", "garment_extras", "garment_files", "garment_from_file",
    "garment_from_photo", "garment_glb", "garment_obj_zip", "garment_thumbnail", "garment_turntable",
    "import_to_garment", "job_seconds", "open_photo", "outfit_glb", "outfit_thumbnail", "photo_to_garment", "png_bytes",
    "preset_body", "thumbnail",
]
