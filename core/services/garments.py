"""Garments: photos uploaded, turned into 3D by a job, 3D files imported, the caller's listed.
Uploads write nothing until their bytes pass validation, and no object is kept without its row."""

from __future__ import annotations

import time
from typing import BinaryIO

from core.ai.reconstructors import resolve
from core.choices import AUTO, Category, Model, Quality, Units, Up, pick
from core.context import Context
from core.db import session_scope
from core.errors import InputError, NotFound, PipelineError, Unavailable, about, error_for_status
from core.identity import Caller
from core.jobs import JobRunner
from core.keys import import_source_key, photo_key
from core.models import DONE, PROCESSING, Cloth, Cloth3D
from core.quotas import Quotas
from core.services.records import Records, file_columns, parse_id, visible
from core.tasks import IMPORT
from core.uploads import ValidatedImage, clean_filename, encode_for_storage, receive, sniff_mesh_format, validate_image

BACK_PHOTO = "The back photo"  # how refusals name the optional back photo
IMPORT_POLL_S = 0.05
IMPORT_GRACE_S = 10.0  # past its time limit, the runner ends a job within this: an import still queued is late


def category_of(value: str | None) -> str | None:
    """A requested category, None for `auto` (the parse guesses it)."""
    category = pick(Category, value or AUTO, "category")
    return None if category == AUTO else category


class Garments:
    def __init__(self, ctx: Context, runner: JobRunner, quotas: Quotas, records: Records) -> None:
        self.ctx, self.runner, self.quotas, self.records = ctx, runner, quotas, records

    def upload_image(self, stream: BinaryIO, filename: str | None, back: BinaryIO | None, caller: Caller) -> dict:
        """Validate a garment photo and, optionally, a photo of its back (the garment seen from behind:
        it textures the 3D garment's back), each bytes → temp file → the same checks, and store them
        as a Cloth."""
        s = self.ctx.settings
        limit = s.max_upload_bytes
        data = receive(stream, limit, s.resolved_tmp_dir)
        with about(BACK_PHOTO):
            back_data = receive(back, limit, s.resolved_tmp_dir) if back is not None else None
        size = len(data) + len(back_data or b"")
        self.quotas.check_upload(caller.user_id, caller.client, size)

        def validate(payload: bytes) -> ValidatedImage:
            return validate_image(payload, max_bytes=limit, max_side=s.max_image_side, max_pixels=s.max_image_pixels)

        image = validate(data)
        with about(BACK_PHOTO):
            back_image = validate(back_data) if back_data is not None else None
        cloth = Cloth(user_id=caller.user_id, image_key="", width=image.size[0], height=image.size[1],
                      size_bytes=size, has_alpha=image.has_alpha, original_name=clean_filename(filename))
        stored: list[str] = []
        try:
            for name, photo in (("photo", image), ("back", back_image)):
                if photo is not None:
                    payload, content_type, ext = encode_for_storage(photo)
                    stored.append(photo_key(cloth.id, name, ext))
                    self.ctx.storage.put_bytes(stored[-1], payload, content_type)
            cloth.image_key, cloth.back_key = stored[0], stored[1] if back_image is not None else None
            with session_scope(self.ctx.engine) as db:
                db.add(cloth)
                db.commit()
        except Exception:
            for key in stored:  # no object without its row
                self.ctx.storage.delete(key)
            raise
        return self.records.of(cloth, caller.base_url)

    def generate_3d(self, cloth_id: str, model: str, quality: str, category: str | None, caller: Caller) -> dict:
        """A job that turns the caller's photo into a 3D garment; an explicit model that cannot run
        here is refused now, not in the job."""
        cloth_id = parse_id(cloth_id, "cloth_id")
        quality = pick(Quality, quality, "quality")
        category = category_of(category)
        model = pick(Model, model, "model")
        chosen, _ = resolve(model, self.ctx.settings)
        with session_scope(self.ctx.engine) as db:
            cloth = db.get(Cloth, cloth_id)
            if cloth is None or not visible(cloth, caller):
                raise NotFound(f"No garment photo with id {cloth_id}.")
            self.quotas.check_job(caller.user_id, caller.client)
            job = Cloth3D(cloth_id=cloth_id, user_id=cloth.user_id, model_requested=model,
                          quality=quality, category=category, stage="queued")
            db.add(job)
            db.commit()
        self.runner.submit(Cloth3D, job.id, self.ctx.settings.generate_timeout_s, owner=caller.user_id,
                           gpu_job=chosen.gpu)
        return self.records.of(job, caller.base_url)

    def upload_garment_3d(self, stream: BinaryIO, filename: str | None, category: str | None, units: str,
                          up: str, caller: Caller) -> dict:
        """Import a 3D garment (GLB, glTF, OBJ, PLY) as a finished Cloth3D that can be fitted. The file
        is parsed by a job (a worker process, with a time limit and the client's quotas), while this
        call waits for it; a refused file leaves nothing behind and keeps its 4xx."""
        category = category_of(category)
        options = {"units": pick(Units, units or AUTO, "units"), "up": pick(Up, up or AUTO, "up axis")}
        data = receive(stream, int(self.ctx.settings.max_import_mb * 2**20), self.ctx.settings.resolved_tmp_dir)
        if not data:
            raise InputError("The file is empty.")
        self.quotas.check_upload(caller.user_id, caller.client, len(data))
        self.quotas.check_job(caller.user_id, caller.client)
        fmt = sniff_mesh_format(data, filename)
        options = {"format": fmt, "filename": clean_filename(filename), **options}
        job = Cloth3D(user_id=caller.user_id, model_requested=IMPORT, model_used=IMPORT, quality="med",
                      category=category, stage="queued", stats={"import": options})
        source = import_source_key(job.id, fmt)
        self.ctx.storage.put_bytes(source, data, "application/octet-stream")
        try:
            with session_scope(self.ctx.engine) as db:
                db.add(job)
                db.commit()
        except Exception:
            self.ctx.storage.delete(source)  # no object without its row
            raise
        self.runner.submit(Cloth3D, job.id, self.ctx.settings.generate_timeout_s, owner=caller.user_id)
        return self._imported(job.id, source, caller)

    def _imported(self, job_id: str, source: str, caller: Caller) -> dict:
        """The import's record once its job is done; else its refusal, and nothing of it kept."""
        deadline = time.monotonic() + self.ctx.settings.generate_timeout_s + IMPORT_GRACE_S
        while (row := self.records.row(Cloth3D, job_id)).status == PROCESSING and time.monotonic() < deadline:
            time.sleep(IMPORT_POLL_S)
        if row.status == DONE:
            return self.records.of(row, caller.base_url)
        self._forget(row, source)
        if row.status == PROCESSING:  # still queued behind other work: the server's delay, not the file's
            raise Unavailable("The server is busy and the import did not start in time; please try again.")
        status = (row.stats or {}).get("error_status")
        message = row.log or "the import did not finish"
        if status is None or 400 <= status < 500:  # refused, or a file too costly for its time limit
            raise error_for_status(status or 400, f"The 3D file could not be imported: {message}")
        raise PipelineError(f"The 3D file could not be imported: {message}")

    def _forget(self, job: Cloth3D, *keys: str) -> None:
        """A refused import leaves nothing: its row and every object it may have written."""
        for key in (*keys, *(getattr(job, f) for f in file_columns(Cloth3D))):
            if key:
                self.ctx.storage.delete(key)
        with session_scope(self.ctx.engine) as db:
            if (row := db.get(Cloth3D, job.id)) is not None:
                db.delete(row)
                db.commit()

    def list_garments(self, caller: Caller, limit: int, after: str | None) -> list[dict]:
        """The caller's 3D garments, newest first, a page at a time."""
        return self.records.page(Cloth3D, caller, limit, after)
