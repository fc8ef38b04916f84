"""Job functions: read a job's row, run its pipeline, store its files, mark it done or error.

They take only (settings, job id), so any runner can call them in any process: the in-process
pool today, a queue worker later.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Callable
from functools import lru_cache

import trimesh
from PIL import Image
from sqlalchemy import update
from sqlmodel import SQLModel, select

from core.ai.reconstructors import REGISTRY, resolve
from core.ai.segment import segmenter_for
from core.avatars.builder import BUILD
from core.avatars.custom import Measurements, solve
from core.config import Settings
from core.context import Context, context_for
from core.db import session_scope
from core.errors import FitroomError
from core.fitting.body import BodyModel
from core.fitting.fit import FitLayer
from core.garment.parse import stored_parse
from core.keys import avatar_keys, extras_keys, fitting_extras_keys, fitting_keys, garment_keys, import_source_key
from core.mesh.export import draco_compress_glb, mesh_to_glb
from core.mesh.render import render
from core.models import DONE, ERROR, PROCESSING, AvatarPreset, Cloth, Cloth3D, FittingSession, utcnow
from core.pipeline import (
    DRESS_STAGES,
    PHOTO_STAGES,
    FittedFiles,
    GarmentFiles,
    dress,
    fitted_thumbnail,
    garment_extras,
    import_to_garment,
    photo_to_garment,
    png_bytes,
)
from core.samples import draw_garment

log = logging.getLogger("fitroom.jobs")
# Each job's stages in order, as the page shows them: "queued" (the service made the job), "started"
# (a worker took it: core/jobs.py), then the job's own; "done" ends it.
QUEUED_STAGES = ("queued", "started")
GENERATE_STAGES = (*QUEUED_STAGES, *PHOTO_STAGES)
FIT_STAGES = (*QUEUED_STAGES, *DRESS_STAGES)
AVATAR_STAGES = (*QUEUED_STAGES, "solving", "export")


def update_job(ctx: Context, table: type[SQLModel], job_id: str, **values) -> bool:
    """Write to a job only while it is still processing: a job that timed out stays ended."""
    with session_scope(ctx.engine) as s:
        res = s.exec(update(table).where(table.id == job_id, table.status == PROCESSING)  # type: ignore[call-overload]
                     .values(updated_at=utcnow(), **values))
        s.commit()
        return bool(res.rowcount)


def _fail(ctx: Context, table: type[SQLModel], job_id: str, exc: BaseException) -> None:
    if isinstance(exc, FitroomError):
        message = str(exc)
    else:
        message = f"internal error ({type(exc).__name__}): {exc}"
        log.error("job %s failed:\n%s", job_id, traceback.format_exc())
    update_job(ctx, table, job_id, status=ERROR, log=message)


IMPORT = "import"  # the model_requested of a 3D garment imported from a file


def run_generate(settings: Settings, job_id: str) -> None:
    ctx = context_for(settings)
    try:
        with session_scope(ctx.engine) as s:
            job = s.get(Cloth3D, job_id)
            cloth = s.get(Cloth, job.cloth_id)
        if job.model_requested == IMPORT:
            run_import(ctx, job)
            return
        reconstructor, note = resolve(job.model_requested, settings)
        update_job(ctx, Cloth3D, job_id, model_used=reconstructor.name, log=note)
        image = _stored_photo(ctx, cloth.image_key)
        back = _stored_photo(ctx, cloth.back_key) if cloth.back_key else None
        files = photo_to_garment(image, job.category, job.quality, reconstructor,
                                 on_stage=lambda st: update_job(ctx, Cloth3D, job_id, stage=st), back_image=back,
                                 segmenter=segmenter_for(settings))
        log = "; ".join(part for part in (note, files.log) if part) or None  # the model's note, the parse's
        if not update_job(ctx, Cloth3D, job_id, status=DONE, stage="done", category=files.category, log=log,
                          timings=files.timings, stats=files.stats, **store_garment(ctx, job_id, files)):
            return  # ended meanwhile (time limit): leave it as it is
    except Exception as exc:  # noqa: BLE001 - every failure must end the job with a message
        _fail(ctx, Cloth3D, job_id, exc)
        return
    add_extras(ctx, job_id, files)


def _stored_photo(ctx: Context, key: str) -> Image.Image:
    """A stored photo, decoded: PNG with its alpha (a photo that came cut out), JPEG as RGB
    (core/uploads.py: encode_for_storage)."""
    with Image.open(ctx.storage.local_path(key)) as im:
        return im.convert("RGBA") if im.mode == "RGBA" else im.convert("RGB")


def run_import(ctx: Context, job: Cloth3D) -> None:
    """A 3D file a client uploaded, parsed here, in a job (time-limited, in a worker process), never in
    the request. A refusal keeps its HTTP status in the job's stats for the face that waits on it."""
    options = job.stats["import"]
    try:
        update_job(ctx, Cloth3D, job.id, stage="reconstruction")
        data = ctx.storage.get_bytes(import_source_key(job.id, options["format"]))
        files = import_to_garment(data, options["filename"], job.category, options["units"], options["up"],
                                  int(ctx.settings.max_import_mb * 2**20))
        if not update_job(ctx, Cloth3D, job.id, status=DONE, stage="done", category=files.category,
                          timings=files.timings, stats=files.stats | {"import": options}, log=files.log,
                          **store_garment(ctx, job.id, files)):
            return
    except Exception as exc:  # noqa: BLE001 - every failure must end the job with a message
        status = exc.status_code if isinstance(exc, FitroomError) else 500
        update_job(ctx, Cloth3D, job.id, stats={"import": options, "error_status": status})
        _fail(ctx, Cloth3D, job.id, exc)
        return
    add_extras(ctx, job.id, files)


def store_garment(ctx: Context, job_id: str, files: GarmentFiles) -> dict[str, str | None]:
    """Write a garment's files; returns the Cloth3D columns that point at them."""
    keys = garment_keys(job_id, cutout=bool(files.cutout_preview))
    ctx.storage.put_bytes(keys["glb_key"], files.glb, "model/gltf-binary")
    ctx.storage.put_bytes(keys["gltf_key"], files.draco_glb, "model/gltf-binary")
    if files.cutout_preview:
        ctx.storage.put_bytes(keys["cutout_key"], files.cutout_preview, "image/png")
    return keys


Extras = tuple[dict[str, tuple[bytes, str]], dict[str, float], dict]  # {key: (data, type)}, timings, notes


def _add_extras(ctx: Context, table: type[Cloth3D] | type[FittingSession], job_id: str,
                keys: dict[str, str], make: Callable[[], Extras]) -> None:
    """What follows a job once it is done, and shown (nobody waits for it): made, stored under its
    `keys` (the row's columns), pointed at by the row, whose `extras` then says done. A picture that
    could not be drawn (b"") gets no key. A failure is logged and said in the row (`error`); the job
    stays done. `notes` join the row's stats (a garment) or metrics (a fitting)."""
    record = "stats" if table is Cloth3D else "metrics"
    try:
        objects, timings, notes = make()
        stored = {}
        for column, (data, content_type) in objects.items():
            if data:
                ctx.storage.put_bytes(keys[column], data, content_type)
                stored[column] = keys[column]
        with session_scope(ctx.engine) as s:
            row = s.get(table, job_id)
            if row is None or row.status != DONE:
                return
            for column, key in stored.items():
                setattr(row, column, key)
            row.timings = {**(row.timings or {}), **timings}
            setattr(row, record, {**(getattr(row, record) or {}), **notes})
            row.updated_at = utcnow()
            s.add(row)
            s.commit()
    except Exception:
        log.exception("job %s: its extras failed", job_id)
        with session_scope(ctx.engine) as s:  # said in the record: they are not coming
            row = s.get(table, job_id)
            if row is not None:
                setattr(row, record, {**(getattr(row, record) or {}), "extras": "error"})
                s.add(row)
                s.commit()


def add_extras(ctx: Context, job_id: str, files: GarmentFiles) -> None:
    """A garment's thumbnail, OBJ zip and turntable, made once it is done and shown."""
    def make() -> Extras:
        extras = garment_extras(files.mesh)
        return ({"thumb_key": (extras.thumbnail, "image/png"), "obj_key": (extras.obj_zip, "application/zip"),
                 "turntable_key": (extras.turntable_gif, "image/gif")},
                extras.timings, {"thumb_bytes": len(extras.thumbnail)})

    _add_extras(ctx, Cloth3D, job_id, extras_keys(job_id), make)


def add_fit_extras(ctx: Context, job_id: str, files: FittedFiles) -> None:
    """A dressed avatar's thumbnail, made once the fitting is done and shown."""
    def make() -> Extras:
        thumb, timings = fitted_thumbnail(files)
        return {"thumb_key": (thumb, "image/png")}, timings, {}

    _add_extras(ctx, FittingSession, job_id, fitting_extras_keys(job_id), make)


@lru_cache(maxsize=8)
def _body(glb_path: str, landmarks_json: str, measurements_json: str) -> BodyModel:
    mesh = trimesh.load(glb_path, force="mesh")
    return BodyModel(mesh, json.loads(landmarks_json), json.loads(measurements_json)).prepared()


def avatar_body(ctx: Context, avatar: AvatarPreset) -> BodyModel:
    """An avatar's prepared body (~1 s to prepare), kept per process: fits and the warm-up share it."""
    return _body(str(ctx.storage.local_path(avatar.glb_key)), json.dumps(avatar.landmarks),
                 json.dumps(avatar.measurements))


def warm_up(settings: Settings) -> dict[str, float]:
    """Make this worker process ready for a person's first job before it takes one: the check an
    `auto` job makes of the GPU path (it imports torch where installed), the cut-out model, the
    seeded presets' prepared bodies, and one garment and one fit made and thrown away (the first run
    of each pays for lazy imports and first calls). Returns each step's seconds; never raises: a
    step that fails is logged and left to the job that needs it, which then fails with its message."""
    ctx = context_for(settings)
    bodies: list[BodyModel] = []
    made: list[GarmentFiles] = []

    def presets() -> None:
        with session_scope(ctx.engine) as s:
            rows = s.exec(select(AvatarPreset).where(AvatarPreset.is_custom == False,  # noqa: E712 - SQL
                                                     AvatarPreset.status == DONE)).all()
        bodies.extend(avatar_body(ctx, row) for row in rows)

    def garment() -> None:
        made.append(photo_to_garment(draw_garment("top")[0], None, "low", REGISTRY["silhouette"],
                                     segmenter=segmenter_for(settings)))

    def fit() -> None:
        if made and bodies:
            layer = FitLayer(made[0].mesh, "top", "top", stored_parse(made[0].stats, "top"))
            dress([layer], bodies[0], offset_mm=settings.clearance_mm)

    steps: dict[str, Callable[[], object]] = {
        "gpu_check": lambda: resolve("auto", settings), "cutout_model": lambda: segmenter_for(settings),
        "preset_bodies": presets, "garment": garment, "fit": fit}
    seconds: dict[str, float] = {}
    for name, step in steps.items():
        t0 = time.perf_counter()
        try:
            step()
        except Exception:  # a cold worker still serves: the job that needs the step reports it
            log.exception("worker warm-up: %s failed", name)
        seconds[name] = round(time.perf_counter() - t0, 3)
    log.info("worker warm", extra={"warm_up_s": seconds})
    return seconds


def run_fit(settings: Settings, job_id: str) -> None:
    ctx = context_for(settings)
    try:
        with session_scope(ctx.engine) as s:
            job = s.get(FittingSession, job_id)
            avatar = s.get(AvatarPreset, job.avatar_preset_id)
            garments = [s.get(Cloth3D, gid) for gid in job.layers]
        body = avatar_body(ctx, avatar)
        layers = [FitLayer(trimesh.load(ctx.storage.local_path(g.glb_key), force="mesh"), g.category or "top",
                           g.category or "top", stored_parse(g.stats, g.category)) for g in garments]
        files = dress(layers, body, offset_mm=job.params.get("offset_mm", settings.clearance_mm),
                      ease=job.params.get("ease", "regular"), tuck_in=job.params.get("tuck_in", False),
                      on_stage=lambda st: update_job(ctx, FittingSession, job_id, stage=st))
        keys = fitting_keys(job_id)
        ctx.storage.put_bytes(keys["fitted_glb_key"], files.glb, "model/gltf-binary")
        ctx.storage.put_bytes(keys["fitted_gltf_key"], files.draco_glb, "model/gltf-binary")
        if not update_job(ctx, FittingSession, job_id, status=DONE, stage="done", metrics=files.metrics,
                          timings=files.timings, **keys):
            return  # ended meanwhile (time limit): leave it as it is
    except Exception as exc:  # noqa: BLE001 - every failure must end the job with a message
        _fail(ctx, FittingSession, job_id, exc)
        return
    add_fit_extras(ctx, job_id, files)


def run_avatar(settings: Settings, job_id: str) -> None:
    """A custom avatar: anny's phenotype solved for the asked measurements, then stored."""
    ctx = context_for(settings)
    try:
        with session_scope(ctx.engine) as s:
            job = s.get(AvatarPreset, job_id)
        update_job(ctx, AvatarPreset, job_id, stage="solving")
        solved = solve(Measurements(**job.params))
        update_job(ctx, AvatarPreset, job_id, stage="export")
        glb = mesh_to_glb(solved.body.mesh, name="avatar")
        keys = avatar_keys(job_id)
        ctx.storage.put_bytes(keys["glb_key"], glb, "model/gltf-binary")
        ctx.storage.put_bytes(keys["gltf_key"], draco_compress_glb(glb), "model/gltf-binary")
        ctx.storage.put_bytes(keys["thumb_key"], png_bytes(render([solved.body.mesh], yaw_deg=15)), "image/png")
        off = ", ".join(f"{k} {v:+.1f} cm" for k, v in solved.error_cm.items())
        update_job(ctx, AvatarPreset, job_id, status=DONE, stage="done", landmarks=solved.body.landmarks,
                   measurements=solved.body.measurements, log=f"measured against the request: {off}",
                   params=job.params | {"phenotype": solved.body.phenotype, "error_cm": solved.error_cm,
                                        "build": BUILD}, **keys)
    except Exception as exc:  # noqa: BLE001 - every failure must end the job with a message
        _fail(ctx, AvatarPreset, job_id, exc)


JOB_FUNCTIONS = {Cloth3D: run_generate, FittingSession: run_fit, AvatarPreset: run_avatar}
