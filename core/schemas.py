"""The public records: the one JSON shape of each row, for every face. REST declares them as its
response models (so /openapi.json tells the truth) and the Gradio API returns their
`model_dump(mode="json")`; both get them from the service, which builds them with `record()`.

A record carries ids, status and URLs (absolute against the app's root as the caller reached it),
never storage keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Self

from pydantic import BaseModel, Field
from sqlmodel import SQLModel

from core.models import DONE, AvatarPreset, Cloth, Cloth3D, FittingSession

UrlOf = Callable[[str | None], str | None]  # a storage key's public URL (None for no key)
PAGE_URL = "the page opened on this record (for its owner only, as every record)"
DRACO = "the Draco-compressed GLB (KHR_draco_mesh_compression)"
ALIAS = "the same Draco GLB under the design notes' name"


class Record(BaseModel):
    id: str
    created_at: str
    status: str


def _common(row: Cloth | Cloth3D | FittingSession | AvatarPreset) -> dict[str, str]:
    return {"id": row.id, "created_at": row.created_at.isoformat(), "status": row.status}


class JobRecord(Record):
    stage: str | None
    log: str | None
    timings: dict[str, float]
    updated_at: str


Extras = Literal["pending", "done", "error"] | None


def _extras(row: Cloth3D | FittingSession, made: bool, notes: dict | None) -> Extras:
    """Whether what follows a finished job is still coming (`made`: it is there; `notes` say
    `extras: error` when it is not coming)."""
    if row.status != DONE:
        return None
    if made:
        return "done"
    return "error" if (notes or {}).get("extras") == "error" else "pending"


class ClothRecord(Record):
    kind: Literal["cloth"]
    user_id: str | None
    image_url: str | None
    back_image_url: str | None = Field(description="the back photo, when one was uploaded")
    filename: str | None = Field(description="the uploaded file's name, as a label")
    category: str | None
    width: int
    height: int
    size_bytes: int
    has_alpha: bool

    @classmethod
    def of(cls, row: Cloth, url: UrlOf, base_url: str) -> Self:
        return cls(**_common(row), kind="cloth",
                   user_id=row.user_id, image_url=url(row.image_key), back_image_url=url(row.back_key),
                   filename=row.original_name,
                   category=row.category, width=row.width, height=row.height, size_bytes=row.size_bytes,
                   has_alpha=row.has_alpha)


class Cloth3DRecord(JobRecord):
    kind: Literal["cloth3d"]
    user_id: str | None
    cloth_id: str | None
    model: str
    model_used: str | None
    quality: str
    category: str | None
    draco_glb_url: str | None = Field(description=DRACO)
    gltf_url: str | None = Field(description=ALIAS)
    glb_url: str | None = Field(description="the plain GLB, what viewers load")
    obj_url: str | None
    thumb_url: str | None
    cutout_url: str | None
    turntable_url: str | None
    extras: Extras = Field(description="a finished garment's thumbnail, OBJ zip and turntable (stored together): "
                                       "still coming, there, or not coming")
    page_url: str = Field(description=PAGE_URL)
    stats: dict[str, Any]

    @classmethod
    def of(cls, row: Cloth3D, url: UrlOf, base_url: str) -> Self:
        draco = url(row.gltf_key)
        return cls(**_common(row), kind="cloth3d",
                   user_id=row.user_id, cloth_id=row.cloth_id, model=row.model_requested,
                   model_used=row.model_used, quality=row.quality, category=row.category, stage=row.stage,
                   log=row.log, draco_glb_url=draco, gltf_url=draco, glb_url=url(row.glb_key), obj_url=url(row.obj_key),
                   thumb_url=url(row.thumb_key), cutout_url=url(row.cutout_key),
                   turntable_url=url(row.turntable_key),
                   extras=_extras(row, bool(row.obj_key and row.turntable_key), row.stats),
                   page_url=f"{base_url}/?garment={row.id}", timings=row.timings, stats=row.stats,
                   updated_at=row.updated_at.isoformat())


class FittingRecord(JobRecord):
    kind: Literal["fitting"]
    user_id: str | None
    cloth3d_id: str
    layers: list[str]
    avatar_preset_id: str
    fitted_draco_glb_url: str | None = Field(description=DRACO)
    fitted_gltf_url: str | None = Field(description=ALIAS)
    fitted_glb_url: str | None = Field(description="the plain GLB, what viewers load")
    thumb_url: str | None
    extras: Extras = Field(description="a finished fitting's thumbnail (its time then in the timings): still coming, "
                                       "there, or not coming")
    metrics: dict[str, Any]
    page_url: str = Field(description=PAGE_URL)

    @classmethod
    def of(cls, row: FittingSession, url: UrlOf, base_url: str) -> Self:
        draco = url(row.fitted_gltf_key)
        return cls(**_common(row), kind="fitting",
                   user_id=row.user_id, cloth3d_id=row.cloth3d_id, layers=row.layers,
                   avatar_preset_id=row.avatar_preset_id, stage=row.stage, log=row.log,
                   fitted_draco_glb_url=draco, fitted_gltf_url=draco, fitted_glb_url=url(row.fitted_glb_key),
                   thumb_url=url(row.thumb_key), extras=_extras(row, "thumbnail" in (row.timings or {}), row.metrics),
                   metrics=row.metrics, timings=row.timings,
                   page_url=f"{base_url}/?fitting={row.id}", updated_at=row.updated_at.isoformat())


class AvatarRecord(Record):
    """A preset (everyone's) or a custom avatar (its owner's); `requested`: a custom one's measurements."""

    kind: Literal["avatar"]
    slug: str
    name: str
    height_cm: float
    gender: str
    notes: str | None
    stage: str | None
    log: str | None
    requested: dict[str, Any]
    is_custom: bool
    draco_glb_url: str | None = Field(description=DRACO)
    gltf_url: str | None = Field(description=ALIAS)
    glb_url: str | None = Field(description="the plain GLB, what viewers load")
    thumbnail_url: str | None
    measurements: dict[str, Any]
    landmarks: dict[str, Any]

    @classmethod
    def of(cls, row: AvatarPreset, url: UrlOf, base_url: str) -> Self:
        draco = url(row.gltf_key)
        return cls(**_common(row), kind="avatar",
                   slug=row.slug, name=row.name, height_cm=row.height_cm, gender=row.gender, notes=row.notes,
                   stage=row.stage, log=row.log, requested=row.params, is_custom=row.is_custom,
                   draco_glb_url=draco, gltf_url=draco, glb_url=url(row.glb_key), thumbnail_url=url(row.thumb_key),
                   measurements=row.measurements, landmarks=row.landmarks)


RECORDS: dict[type[SQLModel], type[ClothRecord | Cloth3DRecord | FittingRecord | AvatarRecord]] = {
    Cloth: ClothRecord, Cloth3D: Cloth3DRecord, FittingSession: FittingRecord, AvatarPreset: AvatarRecord}


def record(row: SQLModel, url: UrlOf, base_url: str = "") -> dict[str, Any]:
    """A row's public JSON, as every face returns it."""
    return RECORDS[type(row)].of(row, url, base_url).model_dump(mode="json")


class Token(BaseModel):
    """A new anonymous user's credential, as `POST /auth/token` and the Gradio API's `new_token` return it."""

    token: str = Field(description="send as 'Authorization: Bearer <token>'; browsers also get it as a cookie")
    user_id: str = Field(description="the new user the token names")
    token_type: Literal["bearer"]


class Health(BaseModel):
    """The service's health: each dependency's check, and what they add up to."""

    status: Literal["ok", "warming", "failed"] = Field(
        description="ok (200); warming (503) while the job workers warm up at a start; failed (503)")
    checks: dict[str, str] = Field(description="'ok', 'warming: <how far>' or 'failed: <reason>' per dependency")

    @classmethod
    def of(cls, checks: dict[str, str]) -> Self:
        """Failed if any check failed, ok if all are, else warming."""
        status = ("failed" if any(v.startswith("failed") for v in checks.values())
                  else "ok" if all(v == "ok" for v in checks.values()) else "warming")
        return cls(status=status, checks=checks)
