"""A caller's rows, found by id and shown as the public records of core/schemas.py. Every service
finds and presents rows here, so that who may see a row, and how it looks, are decided once."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlmodel import SQLModel, and_, or_, select

from core.context import Context
from core.db import session_scope
from core.errors import InputError, NotFound, Unavailable
from core.identity import Caller
from core.keys import fitting_keys, garment_keys
from core.models import JOB_TABLES, AvatarPreset, Cloth3D, FittingSession
from core.schemas import record

MAX_LIST = 100  # a page of a listing
# Where each kind of job stores the model a viewer shows (its plain GLB), known before it is made.
MODEL_KEYS = {Cloth3D: lambda job_id: garment_keys(job_id)["glb_key"],
              FittingSession: lambda job_id: fitting_keys(job_id)["fitted_glb_key"]}


def parse_id(value: str, what: str) -> str:
    """An id as the rows store it; anything else is the client's mistake, said with its name."""
    try:
        return str(uuid.UUID(str(value).strip()))
    except ValueError:
        raise InputError(f"{what} {str(value)[:64]!r} is not a valid id.") from None


def visible(row: SQLModel, caller: Caller) -> bool:
    """A row exists only for its owner; presets are everyone's, custom avatars their owner's."""
    if isinstance(row, AvatarPreset) and not row.is_custom:
        return True
    return getattr(row, "user_id", None) == caller.user_id


def file_columns(table: type[SQLModel]) -> list[str]:
    """The columns that point at a row's stored files (by the models' one naming rule, `*_key`)."""
    return [name for name in table.model_fields if name.endswith("_key")]


class Records:
    """Rows looked up for a caller and presented with absolute, fresh URLs."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def url(self, key: str | None, base_url: str) -> str | None:
        """An object's URL, absolute: presigned ones are; local storage's `/files/…` is joined to
        the root URL the caller reached the app at."""
        if not key:
            return None
        try:
            url = self.ctx.storage.url(key)
        except Unavailable:
            return None
        return base_url + url if url.startswith("/") else url

    def of(self, row: SQLModel, base_url: str = "") -> dict:
        """A row's public record (core/schemas.py), its URLs absolute against `base_url`."""
        return record(row, lambda key: self.url(key, base_url), base_url)

    def row(self, table: type[SQLModel], row_id: str) -> SQLModel | None:
        """A row as it is now, whoever owns it (for the service that made it)."""
        with session_scope(self.ctx.engine) as db:
            return db.get(table, row_id)

    def find(self, job_id: str, tables: tuple[type[SQLModel], ...], caller: Caller, what: str = "job id") -> SQLModel:
        """The caller's job (or a preset) with this id, from the first of `tables` that has it."""
        job_id = parse_id(job_id, what)
        with session_scope(self.ctx.engine) as db:
            for table in tables:
                row = db.get(table, job_id)
                if row is not None and visible(row, caller):
                    return row
        raise NotFound(f"No job with id {job_id}.")

    def get_result(self, job_id: str, kind: type[SQLModel] | None, caller: Caller) -> dict:
        """Any job of the caller's by id: another user's row does not exist for the caller."""
        return self.of(self.find(job_id, (kind,) if kind else JOB_TABLES, caller), caller.base_url)

    def model_url(self, job_id: str, caller: Caller, wait_s: int = 0) -> str | None:
        """The URL (from the app's root) of a garment's or a fitting's model, for the page's viewer;
        with `wait_s`, one answered once the model is stored, asked for as its job starts, so that
        the viewer has it the moment it is written. None where the storage cannot wait."""
        row = self.find(job_id, tuple(MODEL_KEYS), caller)
        key = MODEL_KEYS[type(row)](row.id)
        return self.ctx.storage.url_when_stored(key, wait_s) if wait_s else self.ctx.storage.url(key)

    def local_files(self, job_id: str, caller: Caller) -> dict[str, Path]:
        """Local copies of a finished job's files (or a preset's), for viewers in this process,
        named by their column without `_key`."""
        row = self.find(job_id, JOB_TABLES, caller, what="id")
        return {f.removesuffix("_key"): self.ctx.storage.local_path(getattr(row, f))
                for f in file_columns(type(row)) if getattr(row, f)}

    def page(self, table: type[Cloth3D] | type[FittingSession], caller: Caller, limit: int,
             after: str | None) -> list[dict]:
        """The caller's rows, newest first, paged by keyset (`after`: the last id seen)."""
        if not 1 <= int(limit) <= MAX_LIST:
            raise InputError(f"limit must be between 1 and {MAX_LIST}.")
        query = select(table).where(table.user_id == caller.user_id)
        with session_scope(self.ctx.engine) as db:
            if after:  # rows after the last one seen, in the same order
                last = db.get(table, parse_id(after, "after"))
                if last is None or last.user_id != caller.user_id:
                    raise InputError("after must be the id of a row of the previous page.")
                query = query.where(or_(table.created_at < last.created_at,
                                        and_(table.created_at == last.created_at, table.id > last.id)))
            rows = db.exec(query.order_by(table.created_at.desc(), table.id).limit(int(limit))).all()
        return [self.of(r, caller.base_url) for r in rows]
