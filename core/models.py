"""SQLModel tables. Objects are stored by key; URLs are made when a row is presented."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

PROCESSING, DONE, ERROR, UPLOADED = "processing", "done", "error", "uploaded"
JOB_STATUSES = (PROCESSING, DONE, ERROR)


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


def _by_user(table: str, *columns: str) -> tuple[Index, ...]:
    """Indexes the quotas count through: a user's rows by time (uploads, avatars), its jobs by status."""
    return tuple(Index(f"ix_{table}_user_id_{c}", "user_id", c) for c in columns)


def _json(default: Any = None) -> Any:
    return Field(default_factory=lambda: default() if callable(default) else default,
                 sa_column=Column(JSON))


class JobColumns(SQLModel):
    """The columns every job table has: whose it is, where it stands (core/jobs/lifecycle.py writes
    them) and when it was made and last moved."""

    id: str = Field(default_factory=new_id, primary_key=True)
    user_id: str | None = Field(default=None, index=True)
    status: str = Field(default=PROCESSING, index=True)
    stage: str | None = None
    log: str | None = None
    attempts: int = 0  # times a worker started it: a job is run at most twice (once more after a crash)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    """Whoever owns rows: an anonymous visitor the server issued a token to, an operator's API key,
    or a Hugging Face login (core/identity.py)."""

    id: str = Field(default_factory=new_id, primary_key=True)
    kind: str = "anonymous"
    name: str | None = None  # the API key's or the login's name
    email: str | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class Cloth(SQLModel, table=True):
    """An uploaded garment photo."""

    __table_args__ = _by_user("cloth", "created_at")

    id: str = Field(default_factory=new_id, primary_key=True)
    user_id: str | None = Field(default=None, index=True)
    image_key: str
    back_key: str | None = None  # the optional back photo, stored beside the front's
    status: str = UPLOADED
    category: str | None = None
    width: int = 0
    height: int = 0
    size_bytes: int = 0  # the upload's bytes, both photos (the quotas count them)
    has_alpha: bool = False
    original_name: str | None = None  # the uploaded file's name, a label for its owner
    created_at: datetime = Field(default_factory=utcnow)  # a photo never changes after its upload


class Cloth3D(JobColumns, table=True):
    """A garment-to-3D job and its outputs."""

    __table_args__ = _by_user("cloth3d", "created_at", "status")

    cloth_id: str | None = Field(default=None, index=True)
    model_requested: str = "auto"
    model_used: str | None = None
    quality: str = "low"
    category: str | None = None
    glb_key: str | None = None
    gltf_key: str | None = None  # Draco-compressed GLB
    obj_key: str | None = None
    thumb_key: str | None = None
    cutout_key: str | None = None
    turntable_key: str | None = None
    timings: dict = _json(dict)
    stats: dict = _json(dict)


class AvatarPreset(JobColumns, table=True):
    """A body to dress: the seeded presets, and custom bodies built from measurements (a job)."""

    __table_args__ = _by_user("avatarpreset", "created_at", "status")

    slug: str = Field(index=True, unique=True)
    name: str
    height_cm: float
    gender: str
    notes: str | None = None
    status: str = Field(default=DONE, index=True)  # a seeded preset is done; a custom one starts processing
    params: dict = _json(dict)
    glb_key: str | None = None
    gltf_key: str | None = None  # Draco-compressed GLB
    thumb_key: str | None = None
    landmarks: dict = _json(dict)
    measurements: dict = _json(dict)
    is_custom: bool = False


class FittingSession(JobColumns, table=True):
    """A fitting job: one or more garments dressed on one avatar."""

    __table_args__ = _by_user("fittingsession", "status")

    cloth3d_id: str = Field(index=True)
    layers: list = _json(list)
    avatar_preset_id: str
    params: dict = _json(dict)
    metrics: dict = _json(dict)  # the fit report: the worst layer's figures and one report per layer
    timings: dict = _json(dict)
    fitted_glb_key: str | None = None
    fitted_gltf_key: str | None = None  # Draco-compressed GLB
    thumb_key: str | None = None


JOB_TABLES: tuple[type[JobColumns], ...] = (Cloth3D, FittingSession, AvatarPreset)
