"""The garment kind: a photo (with its optional back) made into a 3D garment, or a 3D file a client
uploaded parsed into one; both stored the same way, with the same extras after."""

from __future__ import annotations

from functools import partial

from PIL import Image

from core.ai.reconstructors import resolve
from core.ai.segment import segmenter_for
from core.context import Context
from core.db import session_scope
from core.errors import FitroomError
from core.jobs.extras import Extras, store_extras
from core.jobs.kinds import Done, Job, JobKind
from core.keys import extras_keys, garment_keys, import_source_key
from core.models import Cloth, Cloth3D
from core.pipeline import PHOTO_STAGES, GarmentFiles, garment_extras, import_to_garment, photo_to_garment

IMPORT = "import"  # the model_requested of a 3D garment imported from a file


def make_garment(job: Job) -> Done:
    """The garment a job asks for: from its photo by its reconstructor (`auto`: the one available,
    with a note), or from its imported file."""
    if job.row.model_requested == IMPORT:
        return import_garment(job)
    ctx, settings = job.ctx, job.ctx.settings
    with session_scope(ctx.engine) as s:
        cloth = s.get(Cloth, job.row.cloth_id)
    reconstructor, note = resolve(job.row.model_requested, settings)
    job.update(model_used=reconstructor.name, log=note)
    image = stored_photo(ctx, cloth.image_key)
    back = stored_photo(ctx, cloth.back_key) if cloth.back_key else None
    files = photo_to_garment(image, job.row.category, job.row.quality, reconstructor, on_stage=job.stage,
                             back_image=back, segmenter=segmenter_for(settings))
    log = "; ".join(part for part in (note, files.log) if part) or None  # the model's note, the parse's
    return Done({"category": files.category, "log": log, "timings": files.timings, "stats": files.stats,
                 **store_garment(ctx, job.id, files)}, then=partial(add_extras, ctx, job.id, files))


def stored_photo(ctx: Context, key: str) -> Image.Image:
    """A stored photo, decoded: PNG with its alpha (a photo that came cut out), JPEG as RGB
    (core/uploads.py: encode_for_storage)."""
    with Image.open(ctx.storage.local_path(key)) as im:
        return im.convert("RGBA") if im.mode == "RGBA" else im.convert("RGB")


def import_garment(job: Job) -> Done:
    """A 3D file a client uploaded, parsed here, in a job (time-limited, in a worker process), never in
    the request. A refusal keeps its HTTP status in the job's stats for the face that waits on it."""
    ctx, options = job.ctx, job.row.stats["import"]
    try:
        job.stage("reconstruction")
        data = ctx.storage.get_bytes(import_source_key(job.id, options["format"]))
        files = import_to_garment(data, options["filename"], job.row.category, options["units"], options["up"],
                                  int(ctx.settings.max_import_mb * 2**20))
        return Done({"category": files.category, "timings": files.timings,
                     "stats": files.stats | {"import": options}, "log": files.log,
                     **store_garment(ctx, job.id, files)}, then=partial(add_extras, ctx, job.id, files))
    except Exception as exc:  # the executor ends the job with its message
        status = exc.status_code if isinstance(exc, FitroomError) else 500
        job.update(stats={"import": options, "error_status": status})
        raise


def store_garment(ctx: Context, job_id: str, files: GarmentFiles) -> dict[str, str | None]:
    """Write a garment's files; returns the Cloth3D columns that point at them."""
    keys = garment_keys(job_id, cutout=bool(files.cutout_preview))
    ctx.storage.put_bytes(keys["glb_key"], files.glb, "model/gltf-binary")
    ctx.storage.put_bytes(keys["gltf_key"], files.draco_glb, "model/gltf-binary")
    if files.cutout_preview:
        ctx.storage.put_bytes(keys["cutout_key"], files.cutout_preview, "image/png")
    return keys


def add_extras(ctx: Context, job_id: str, files: GarmentFiles) -> None:
    """A garment's thumbnail, OBJ zip and turntable, made once it is done and shown."""
    def make() -> Extras:
        extras = garment_extras(files.mesh)
        return ({"thumb_key": (extras.thumbnail, "image/png"), "obj_key": (extras.obj_zip, "application/zip"),
                 "turntable_key": (extras.turntable_gif, "image/gif")},
                extras.timings, {"thumb_bytes": len(extras.thumbnail)})

    store_extras(ctx, Cloth3D, job_id, extras_keys(job_id), make)


GARMENT = JobKind(Cloth3D, PHOTO_STAGES, time_limit="generate_timeout_s", gpu=True, work=make_garment)
