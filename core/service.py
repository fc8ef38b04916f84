"""THE operations. The Gradio UI, the Gradio API and the REST routes call only this."""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import false
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, and_, or_, select

from core.ai.reconstructors import resolve
from core.avatars.builder import BUILD
from core.avatars.custom import Measurements
from core.avatars.presets import load_presets
from core.choices import AUTO, Category, Ease, Model, Quality, pick
from core.context import Context
from core.db import check_db, fail_interrupted_jobs, init_db, session_scope
from core.errors import InputError, NotFound, PayloadTooLarge, PipelineError, Unavailable, about, error_for_status
from core.identity import Caller, Identity
from core.jobs import JobRunner
from core.keys import import_source_key, photo_key, preset_keys
from core.mesh.export import draco_compress_glb
from core.mesh.importer import check_options, sniff_mesh_format
from core.models import DONE, ERROR, PROCESSING, AvatarPreset, Cloth, Cloth3D, FittingSession, utcnow
from core.quotas import Quotas
from core.schemas import record
from core.tasks import IMPORT
from core.uploads import CHUNK, ValidatedImage, clean_filename, encode_for_storage, validate_image

MAX_LAYERS = 3
IMPORT_POLL_S = 0.05
IMPORT_GRACE_S = 10.0  # past its time limit, the runner ends a job within this: an import still queued is late
MAX_LIST = 100  # a page of a listing
# The columns that point at each kind of row's stored files.
FILE_KEYS = {Cloth3D: ("glb_key", "gltf_key", "thumb_key", "cutout_key", "obj_key", "turntable_key"),
             FittingSession: ("fitted_glb_key", "fitted_gltf_key", "thumb_key"),
             AvatarPreset: ("glb_key", "gltf_key", "thumbnail_key")}


BACK_PHOTO = "The back photo"  # how refusals name the optional back photo


def _visible(row: SQLModel, caller: Caller) -> bool:
    """A row exists only for its owner; presets are everyone's, custom avatars their owner's."""
    if isinstance(row, AvatarPreset) and not row.is_custom:
        return True
    return getattr(row, "user_id", None) == caller.user_id


def parse_id(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(str(value).strip()))
    except ValueError:
        raise InputError(f"{what} {str(value)[:64]!r} is not a valid id.") from None


class FitroomService:
    def __init__(self, ctx: Context, runner: JobRunner) -> None:
        self.ctx = ctx
        self.runner = runner
        self.identity = Identity(ctx.settings, ctx.engine)
        self.quotas = Quotas(ctx.settings, ctx.engine)

    # -- start-up -------------------------------------------------------------------------------
    def start(self) -> dict:
        """Create tables, end jobs a dead process left running, seed the presets."""
        init_db(self.ctx.engine)
        # Inline jobs died with the previous process; Celery workers' jobs live on without the API
        # (the CeleryRunner's sweep ends those whose worker died).
        interrupted = fail_interrupted_jobs(self.ctx.engine) if self.ctx.settings.worker == "inline" else 0
        seeded = self.seed_presets()
        return {"interrupted_jobs": interrupted, "seeded_presets": seeded}

    def warm_up(self) -> None:
        """What this process's own first requests would pay for: generate_3d's check of the GPU path
        (it imports torch where installed, seconds on a cold disk). The job workers warm themselves."""
        resolve("auto", self.ctx.settings)

    def seed_presets(self) -> int:
        """Idempotent: a preset already in the DB (by slug) is not added again; its files are re-put
        when storage lacks them (e.g. after switching to S3) or holds another GLB than the committed
        one. A preset whose committed files were rebuilt (its landmarks or measurements differ from
        the row's) is brought up to date, files and row, under the same id: fittings made on it keep
        pointing at it."""
        added = 0
        for files in load_presets():
            keys = preset_keys(files.slug)
            meta = files.meta
            with session_scope(self.ctx.engine) as s:
                row = s.exec(select(AvatarPreset).where(AvatarPreset.slug == files.slug)).first()
                rebuilt = row is not None and (row.landmarks, row.measurements) != (meta["landmarks"],
                                                                                  meta["measurements"])
                glb = files.glb.read_bytes()
                if rebuilt or not self._holds(keys["glb_key"], glb):
                    self.ctx.storage.put_bytes(keys["glb_key"], glb, "model/gltf-binary")
                    self.ctx.storage.put_bytes(keys["gltf_key"], draco_compress_glb(glb), "model/gltf-binary")
                    self.ctx.storage.put_bytes(keys["thumbnail_key"], files.thumbnail.read_bytes(), "image/png")
                if rebuilt:
                    row.landmarks, row.measurements = meta["landmarks"], meta["measurements"]
                    row.height_cm, row.updated_at = meta["height_cm"], utcnow()
                    s.add(row)
                    s.commit()
                if row is not None:
                    continue
                s.add(AvatarPreset(slug=files.slug, name=meta["name"], height_cm=meta["height_cm"],
                                   gender=meta["gender"], notes=meta.get("notes"),
                                   landmarks=meta["landmarks"], measurements=meta["measurements"], **keys))
                try:
                    s.commit()
                    added += 1
                except IntegrityError:  # another process seeded it first
                    s.rollback()
        return added

    def _holds(self, key: str, data: bytes) -> bool:
        """Whether storage holds exactly `data` at `key`: a deployment seeded from older committed
        preset files (before their GLBs carried normals, say) gets the new ones on its next start."""
        try:
            return self.ctx.storage.get_bytes(key) == data
        except NotFound:
            return False

    # -- identity -------------------------------------------------------------------------------
    def new_token(self, client: str | None = None) -> dict:
        """A new anonymous user and its bearer token."""
        self.quotas.check_token(client)
        user_id, token = self.identity.issue()
        return {"token": token, "user_id": user_id, "token_type": "bearer"}

    def caller(self, credential: str | None, client: str | None = None) -> Caller:
        """The verified caller of a token or API key (401 without one)."""
        return self.identity.caller(credential, client)

    # -- operations -----------------------------------------------------------------------------
    def _receive(self, stream: BinaryIO, limit: int) -> bytes:
        """An upload's bytes, through a temp file, refused as soon as they pass `limit`.
        A temp disk that is full or gone is the server's fault: 503 with a message, not a 500."""
        try:
            with tempfile.SpooledTemporaryFile(max_size=1 << 20, dir=self.ctx.settings.resolved_tmp_dir) as tmp:
                copied = 0
                while chunk := stream.read(CHUNK):
                    copied += len(chunk)
                    if copied > limit:
                        raise PayloadTooLarge(f"The file is larger than the {limit / 2**20:g} MB limit.")
                    tmp.write(chunk)
                tmp.seek(0)
                return tmp.read()
        except OSError as exc:
            raise Unavailable(f"The server cannot store the upload right now ({exc.strerror or exc}); "
                              "please try again later.") from exc

    def upload_image(self, stream: BinaryIO, filename: str | None = None, back: BinaryIO | None = None, *,
                     caller: Caller) -> dict:
        """Validate a garment photo and, optionally, a photo of its back (the garment seen from behind:
        it textures the 3D garment's back), each bytes → temp file → the same checks, and store them
        as a Cloth."""
        s = self.ctx.settings
        user_id = caller.user_id
        limit = s.max_upload_bytes
        data = self._receive(stream, limit)
        with about(BACK_PHOTO):
            back_data = self._receive(back, limit) if back is not None else None
        size = len(data) + len(back_data or b"")
        self.quotas.check_upload(user_id, caller.client, size)

        def validate(payload: bytes) -> ValidatedImage:
            return validate_image(payload, max_bytes=limit, max_side=s.max_image_side, max_pixels=s.max_image_pixels)

        image = validate(data)
        with about(BACK_PHOTO):
            back_image = validate(back_data) if back_data is not None else None
        cloth = Cloth(user_id=user_id, image_key="", width=image.size[0], height=image.size[1],
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
        return self._record(cloth, caller.base_url)

    def upload_garment_3d(self, stream: BinaryIO, filename: str | None = None, category: str | None = None,
                          units: str = "auto", up: str = "auto", *, caller: Caller) -> dict:
        """Import a 3D garment (GLB, glTF, OBJ, PLY) as a finished Cloth3D that can be fitted. The file
        is parsed by a job (a worker process, with a time limit and the client's quotas), while this
        call waits for it; a refused file leaves nothing behind and keeps its 4xx."""
        user_id = caller.user_id
        category = self._category(category)
        check_options(units or "auto", up or "auto")
        limit = int(self.ctx.settings.max_import_mb * 2**20)
        data = self._receive(stream, limit)
        if not data:
            raise InputError("The file is empty.")
        self.quotas.check_upload(user_id, caller.client, len(data))
        self.quotas.check_job(user_id, caller.client)
        fmt = sniff_mesh_format(data, filename)
        options = {"format": fmt, "filename": clean_filename(filename), "units": units or "auto",
                   "up": up or "auto"}
        job = Cloth3D(user_id=user_id, model_requested=IMPORT, model_used=IMPORT, quality="med",
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
        self.runner.submit(Cloth3D, job.id, self.ctx.settings.generate_timeout_s, owner=user_id)
        deadline = time.monotonic() + self.ctx.settings.generate_timeout_s + IMPORT_GRACE_S
        while (row := self._row(Cloth3D, job.id)).status == PROCESSING and time.monotonic() < deadline:
            time.sleep(IMPORT_POLL_S)
        if row.status == DONE:
            return self._record(row, caller.base_url)
        self._forget(row, source)
        if row.status == PROCESSING:  # still queued behind other work: the server's delay, not the file's
            raise Unavailable("The server is busy and the import did not start in time; please try again.")
        status = (row.stats or {}).get("error_status")
        message = row.log or "the import did not finish"
        if status is None or 400 <= status < 500:  # refused, or a file too costly for its time limit
            raise error_for_status(status or 400, f"The 3D file could not be imported: {message}")
        raise PipelineError(f"The 3D file could not be imported: {message}")

    def _row(self, table: type[SQLModel], row_id: str) -> SQLModel:
        with session_scope(self.ctx.engine) as db:
            return db.get(table, row_id)

    def _forget(self, job: Cloth3D, *keys: str) -> None:
        """A refused import leaves nothing: its row and every object it may have written."""
        for key in (*keys, *(getattr(job, f) for f in FILE_KEYS[Cloth3D])):
            if key:
                self.ctx.storage.delete(key)
        with session_scope(self.ctx.engine) as db:
            if (row := db.get(Cloth3D, job.id)) is not None:
                db.delete(row)
                db.commit()

    def _category(self, category: str | None) -> str | None:
        category = pick(Category, category or AUTO, "category")
        return None if category == AUTO else category

    def generate_3d(self, cloth_id: str, model: str = "auto", quality: str = "low",
                    category: str | None = None, *, caller: Caller) -> dict:
        cloth_id = parse_id(cloth_id, "cloth_id")
        quality = pick(Quality, quality, "quality")
        category = self._category(category)
        model = pick(Model, model, "model")
        chosen, _ = resolve(model, self.ctx.settings)  # an explicit model that cannot run here is refused now
        with session_scope(self.ctx.engine) as db:
            cloth = db.get(Cloth, cloth_id)
            if cloth is None or not _visible(cloth, caller):
                raise NotFound(f"No garment photo with id {cloth_id}.")
            self.quotas.check_job(caller.user_id, caller.client)
            job = Cloth3D(cloth_id=cloth_id, user_id=cloth.user_id, model_requested=model,
                          quality=quality, category=category, stage="queued")
            db.add(job)
            db.commit()
        self.runner.submit(Cloth3D, job.id, self.ctx.settings.generate_timeout_s, owner=caller.user_id,
                           gpu_job=chosen.gpu)
        return self._record(job, caller.base_url)

    def list_presets(self, caller: Caller | None = None, *, base_url: str = "") -> list[dict]:
        """The seeded presets (public), then the caller's own custom avatars that are ready.
        `base_url`: where a caller without a credential reached the app (a Caller carries its own)."""
        base_url = caller.base_url if caller else base_url.rstrip("/")
        mine = (AvatarPreset.user_id == caller.user_id) if caller else false()
        with session_scope(self.ctx.engine) as db:
            rows = db.exec(select(AvatarPreset).where(AvatarPreset.status == DONE)
                           .where(or_(AvatarPreset.is_custom == False, mine))  # noqa: E712 - SQL
                           .order_by(AvatarPreset.is_custom, AvatarPreset.height_cm).limit(MAX_LIST)).all()
        return [self._record(r, base_url) for r in rows]

    def create_avatar(self, height_cm: float, chest_cm: float, waist_cm: float, hips_cm: float,
                      gender: str, *, caller: Caller) -> dict:
        """A custom avatar from measurements (a job), its owner's alone (a body's measurements are
        personal); the same measurements return the same avatar to the same user."""
        user_id = caller.user_id
        try:
            m = Measurements(float(height_cm), float(chest_cm), float(waist_cm), float(hips_cm), str(gender))
        except (TypeError, ValueError):
            raise InputError("Measurements must be numbers in centimetres.") from None
        slug = f"{m.key}-{user_id}"
        with session_scope(self.ctx.engine) as db:
            row = db.exec(select(AvatarPreset).where(AvatarPreset.slug == slug)).first()
            stale = row is not None and row.status == DONE and row.params.get("build") != BUILD
            if stale:  # built by an older build of the bodies: again, in place (fittings keep it)
                self.quotas.check_job(user_id, caller.client)
                row.status, row.stage, row.log, row.params = PROCESSING, "queued", None, m.__dict__.copy()
                db.add(row)
                db.commit()
                self.runner.submit(AvatarPreset, row.id, self.ctx.settings.generate_timeout_s, owner=user_id)
                return self._record(row, caller.base_url)
            if row is not None and row.status != ERROR:
                return self._record(row, caller.base_url)  # built, or being built: not again
            self.quotas.check_job(user_id, caller.client)  # a new body is built: bounded per client
            self.quotas.check_avatar(user_id, caller.client)
            if row is not None:
                db.delete(row)  # a failed attempt is retried
                db.commit()
            row = AvatarPreset(slug=slug, name=f"Custom {m.gender}, {m.height_cm:g} cm", height_cm=m.height_cm,
                               gender=m.gender, is_custom=True, status=PROCESSING, stage="queued",
                               user_id=user_id, params=m.__dict__.copy(),
                               notes=f"chest {m.chest_cm:g}, waist {m.waist_cm:g}, hips {m.hips_cm:g} cm")
            db.add(row)
            try:
                db.commit()
            except IntegrityError:  # the same measurements asked at the same moment
                db.rollback()
                return self._record(db.exec(select(AvatarPreset).where(AvatarPreset.slug == slug)).one(),
                                    caller.base_url)
        self.runner.submit(AvatarPreset, row.id, self.ctx.settings.generate_timeout_s, owner=user_id)
        return self._record(row, caller.base_url)

    def fit(self, cloth3d_id: str | list[str], avatar_preset_id: str, ease: str = "regular",
            tuck_in: bool = False, *, caller: Caller) -> dict:
        ids = [cloth3d_id] if isinstance(cloth3d_id, str) else list(cloth3d_id or [])
        if not ids:
            raise InputError("Give at least one cloth3d_id to fit.")
        if len(ids) > MAX_LAYERS:
            raise InputError(f"At most {MAX_LAYERS} garments can be fitted at once.")
        ids = [parse_id(i, "cloth3d_id") for i in ids]
        avatar_preset_id = parse_id(avatar_preset_id, "avatar_preset_id")
        user_id = caller.user_id
        ease = pick(Ease, ease, "ease")
        with session_scope(self.ctx.engine) as db:
            avatar = db.get(AvatarPreset, avatar_preset_id)
            if avatar is None or not _visible(avatar, caller):
                raise NotFound(f"No avatar preset with id {avatar_preset_id}.")
            if avatar.status != DONE:
                raise InputError(f"The avatar {avatar_preset_id} is {avatar.status}; fit once it is done.")
            for gid in ids:
                g = db.get(Cloth3D, gid)
                if g is None or not _visible(g, caller):
                    raise NotFound(f"No 3D garment with id {gid}.")
                if g.status != "done":
                    raise InputError(f"The 3D garment {gid} is {g.status}; fit it once it is done.")
            self.quotas.check_job(user_id, caller.client)
            job = FittingSession(user_id=user_id, cloth3d_id=ids[0], layers=ids,
                                 avatar_preset_id=avatar_preset_id, stage="queued",
                                 params={"offset_mm": self.ctx.settings.clearance_mm, "ease": ease,
                                         "tuck_in": bool(tuck_in)})
            db.add(job)
            db.commit()
        self.runner.submit(FittingSession, job.id, self.ctx.settings.fit_timeout_s, owner=user_id)
        return self._record(job, caller.base_url)

    def get_result(self, job_id: str, kind: type[SQLModel] | None = None, *, caller: Caller) -> dict:
        """Any job of the caller's by id: a 3D garment (generation), a fitting session or an avatar
        (presets are everyone's). Another user's row does not exist for the caller."""
        job_id = parse_id(job_id, "job id")
        with session_scope(self.ctx.engine) as db:
            for table in (kind,) if kind else (Cloth3D, FittingSession, AvatarPreset):
                row = db.get(table, job_id)
                if row is not None and _visible(row, caller):
                    return self._record(row, caller.base_url)
        raise NotFound(f"No job with id {job_id}.")

    def list_garments(self, caller: Caller, limit: int = 50, after: str | None = None) -> list[dict]:
        """The caller's 3D garments, newest first, a page at a time (`after`: the last id seen)."""
        return self._list(Cloth3D, caller, limit, after)

    def list_fittings(self, caller: Caller, limit: int = 50, after: str | None = None) -> list[dict]:
        """The caller's fitting sessions, newest first, a page at a time."""
        return self._list(FittingSession, caller, limit, after)

    def _list(self, table: type[Cloth3D] | type[FittingSession], caller: Caller, limit: int,
              after: str | None) -> list[dict]:
        if not 1 <= int(limit) <= MAX_LIST:
            raise InputError(f"limit must be between 1 and {MAX_LIST}.")
        query = select(table).where(table.user_id == caller.user_id)
        with session_scope(self.ctx.engine) as db:
            if after:  # keyset paging: rows after the last one seen, in the same order
                last = db.get(table, parse_id(after, "after"))
                if last is None or last.user_id != caller.user_id:
                    raise InputError("after must be the id of a row of the previous page.")
                query = query.where(or_(table.created_at < last.created_at,
                                        and_(table.created_at == last.created_at, table.id > last.id)))
            rows = db.exec(query.order_by(table.created_at.desc(), table.id).limit(int(limit))).all()
        return [self._record(r, caller.base_url) for r in rows]

    def health(self) -> dict[str, str]:
        """Each dependency really exercised; a failure is named, not hidden. With an in-process pool,
        its workers too: 'warming: …' until each has warmed, so that no one waits on a cold one."""
        checks: dict[str, str] = {}
        for name, probe in (("database", lambda: check_db(self.ctx.engine)),
                            ("storage", self.ctx.storage.check)):
            try:
                probe()
                checks[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - a health check reports, never raises
                checks[name] = f"failed: {exc}"
        if (workers := self.runner.health()) is not None:
            checks["workers"] = workers
        return checks

    def local_files(self, job_id: str, *, caller: Caller) -> dict[str, Path]:
        """Local copies of a finished job's files (or a preset's), for viewers in this process."""
        job_id = parse_id(job_id, "id")
        with session_scope(self.ctx.engine) as db:
            for table, fields in FILE_KEYS.items():
                row = db.get(table, job_id)
                if row is not None and _visible(row, caller):
                    return {f.removesuffix("_key"): self.ctx.storage.local_path(getattr(row, f))
                            for f in fields if getattr(row, f)}
        raise NotFound(f"No job with id {job_id}.")

    # -- presentation ---------------------------------------------------------------------------
    def _url(self, key: str | None, base_url: str) -> str | None:
        """An object's URL, absolute: presigned ones are; local storage's `/files/…` is joined to
        the root URL the caller reached the app at."""
        if not key:
            return None
        try:
            url = self.ctx.storage.url(key)
        except Unavailable:
            return None
        return base_url + url if url.startswith("/") else url

    def _record(self, row: SQLModel, base_url: str = "") -> dict:
        """A row's public record (core/schemas.py), its URLs absolute against `base_url`."""
        return record(row, lambda key: self._url(key, base_url), base_url)
