"""REST routes of the design notes, each a thin call into core.service.

Every route declares its response model and error codes, so that /openapi.json tells the truth
(a schemathesis run checks each response against it)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from core.file_urls import BadSignature, UrlExpired
from core.models import AvatarPreset, Cloth3D, FittingSession
from core.service import FitroomService
from core.storage import LocalStorage

Category = Literal["auto", "top", "bottom", "dress", "outer"]


class GenerateRequest(BaseModel):
    model: Literal["auto", "silhouette", "zero123+instantmesh"] = "auto"
    quality: Literal["low", "med"] = "low"
    category: Category | None = None
    user_id: str | None = None


class AvatarRequest(BaseModel):
    height_cm: float = Field(ge=140, le=210)
    chest_cm: float = Field(ge=65, le=150)
    waist_cm: float = Field(ge=50, le=150)
    hips_cm: float = Field(ge=70, le=160)
    gender: Literal["female", "male"]
    user_id: str | None = None


class FitRequest(BaseModel):
    cloth3d_id: str | list[str] = Field(description="one 3D garment id, or a list of layers")
    avatar_preset_id: str
    user_id: str | None = None
    ease: Literal["tight", "regular", "loose"] = "regular"
    tuck_in: bool = Field(False, description="tops under the waistband of bottoms, not over it")


class ErrorOut(BaseModel):
    detail: str = Field(description="what went wrong, for a person to read")


class _Row(BaseModel):
    id: str
    created_at: str
    status: str


class _Job(_Row):
    stage: str | None
    log: str | None
    timings: dict[str, float]
    updated_at: str


class ClothOut(_Row):
    kind: Literal["cloth"]
    user_id: str | None
    image_url: str | None
    category: str | None
    width: int
    height: int
    size_bytes: int
    has_alpha: bool


class Cloth3DOut(_Job):
    kind: Literal["cloth3d"]
    user_id: str | None
    cloth_id: str | None
    model: str
    model_used: str | None
    quality: str
    category: str | None
    gltf_url: str | None
    glb_url: str | None
    obj_url: str | None
    thumb_url: str | None
    cutout_url: str | None
    turntable_url: str | None
    stats: dict[str, Any]


class FittingOut(_Job):
    kind: Literal["fitting"]
    user_id: str | None
    cloth3d_id: str
    layers: list[str]
    avatar_preset_id: str
    fitted_gltf_url: str | None
    fitted_glb_url: str | None
    thumb_url: str | None
    metrics: dict[str, Any]


class AvatarOut(_Row):
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
    gltf_url: str | None
    glb_url: str | None
    thumbnail_url: str | None
    measurements: dict[str, Any]
    landmarks: dict[str, Any]


class HealthOut(BaseModel):
    status: Literal["ok", "failed"]
    checks: dict[str, str] = Field(description="'ok' or 'failed: <reason>' per dependency")


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorOut} for code in codes}


COMMON_ERRORS = _errors(400, 404, 503)  # bad id, unknown id, a dependency down
UPLOAD_ERRORS = _errors(413, 415)
UserQuery = Annotated[str | None, Query(description="with it, only that user's rows are found")]
UserRequired = Annotated[str, Query(description="the user whose rows are listed")]
Limit = Annotated[int, Query(ge=1, le=500)]


def build_router(service: FitroomService) -> APIRouter:
    router = APIRouter(responses=COMMON_ERRORS)

    @router.post("/clothes/upload-image", status_code=201, tags=["clothes"], responses=UPLOAD_ERRORS)
    def upload_image(file: Annotated[UploadFile, File()],
                     user_id: Annotated[str | None, Form()] = None) -> ClothOut:
        return service.upload_image(file.file, file.filename, user_id)

    @router.post("/clothes3d/import", status_code=201, tags=["clothes"], responses=UPLOAD_ERRORS)
    def import_garment_3d(file: Annotated[UploadFile, File(description="GLB, glTF (embedded), OBJ or PLY")],
                          category: Annotated[Category | None, Form()] = None,
                          units: Annotated[Literal["auto", "m", "cm", "mm"], Form()] = "auto",
                          up: Annotated[Literal["auto", "+y", "+z", "-y", "-z", "+x", "-x"], Form()] = "auto",
                          user_id: Annotated[str | None, Form()] = None) -> Cloth3DOut:
        return service.upload_garment_3d(file.file, file.filename, category, units, up, user_id)

    @router.post("/clothes/{cloth_id}/generate-3d", status_code=202, tags=["clothes"])
    def generate_3d(cloth_id: str, body: GenerateRequest | None = None) -> Cloth3DOut:
        body = body or GenerateRequest()
        return service.generate_3d(cloth_id, body.model, body.quality, body.category, body.user_id)

    @router.get("/clothes3d", tags=["clothes"])
    def list_garments(user_id: UserRequired, limit: Limit = 100) -> list[Cloth3DOut]:
        return service.list_garments(user_id, limit)

    @router.get("/clothes3d/{cloth3d_id}", tags=["clothes"])
    def get_cloth3d(cloth3d_id: str, user_id: UserQuery = None) -> Cloth3DOut:
        return service.get_result(cloth3d_id, kind=Cloth3D, user_id=user_id)

    @router.get("/avatar-presets", tags=["avatars"])
    def list_presets() -> list[AvatarOut]:
        return service.list_presets()

    @router.post("/avatars", status_code=202, tags=["avatars"])
    def create_avatar(body: AvatarRequest) -> AvatarOut:
        return service.create_avatar(body.height_cm, body.chest_cm, body.waist_cm, body.hips_cm, body.gender,
                                     body.user_id)

    @router.get("/avatars/{avatar_id}", tags=["avatars"])
    def get_avatar(avatar_id: str) -> AvatarOut:
        return service.get_result(avatar_id, kind=AvatarPreset)

    @router.post("/fit", status_code=202, tags=["fitting"])
    def fit(body: FitRequest) -> FittingOut:
        return service.fit(body.cloth3d_id, body.avatar_preset_id, body.user_id, body.ease, body.tuck_in)

    @router.get("/fittings", tags=["fitting"])
    def list_fittings(user_id: UserRequired, limit: Limit = 100) -> list[FittingOut]:
        return service.list_fittings(user_id, limit)

    @router.get("/session/{session_id}/result", tags=["fitting"])
    def session_result(session_id: str, user_id: UserQuery = None) -> FittingOut:
        return service.get_result(session_id, kind=FittingSession, user_id=user_id)

    @router.get("/healthz", tags=["ops"], response_model=HealthOut, responses={503: {"model": HealthOut}})
    def healthz() -> JSONResponse:
        checks = service.health()
        ok = all(v == "ok" for v in checks.values())
        body = HealthOut(status="ok" if ok else "failed", checks=checks)
        return JSONResponse(body.model_dump(), status_code=200 if ok else 503)

    storage = service.ctx.storage
    if isinstance(storage, LocalStorage):
        @router.get("/files/{key:path}", tags=["files"], include_in_schema=False)
        def files(key: str, expires: str | None = None, sig: str | None = None) -> Response:
            """Only with a signature from `storage.url` that has not expired (403, 410 when expired)."""
            try:
                left = storage.signer.check(key, expires, sig)
            except (BadSignature, UrlExpired) as exc:  # no-store: a 410 is cacheable by default
                return JSONResponse({"detail": str(exc)}, exc.status_code, headers={"cache-control": "no-store"})
            # local_path refuses keys outside the root. Cached privately (the files are someone's),
            # and never past the URL's own end.
            return FileResponse(storage.local_path(key), headers={"cache-control": f"private, max-age={left}"})

    return router
