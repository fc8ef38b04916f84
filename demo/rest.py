"""REST routes of the design notes, each a thin call into core.service."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from core.models import AvatarPreset, Cloth3D, FittingSession
from core.service import FitroomService
from core.storage import LocalStorage

Category = Literal["auto", "top", "bottom", "dress", "outer"]


class GenerateRequest(BaseModel):
    model: Literal["auto", "silhouette", "zero123+instantmesh"] = "auto"
    quality: Literal["low", "med"] = "low"
    category: Category | None = None


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


def build_router(service: FitroomService) -> APIRouter:
    router = APIRouter()

    @router.post("/clothes/upload-image", status_code=201, tags=["clothes"])
    def upload_image(file: Annotated[UploadFile, File()],
                     user_id: Annotated[str | None, Form()] = None) -> dict:
        return service.upload_image(file.file, file.filename, user_id)

    @router.post("/clothes3d/import", status_code=201, tags=["clothes"])
    def import_garment_3d(file: Annotated[UploadFile, File(description="GLB, glTF (embedded), OBJ or PLY")],
                          category: Annotated[Category | None, Form()] = None,
                          units: Annotated[Literal["auto", "m", "cm", "mm"], Form()] = "auto",
                          up: Annotated[Literal["auto", "+y", "+z", "-y", "-z", "+x", "-x"], Form()] = "auto",
                          user_id: Annotated[str | None, Form()] = None) -> dict:
        return service.upload_garment_3d(file.file, file.filename, category, units, up, user_id)

    @router.post("/clothes/{cloth_id}/generate-3d", status_code=202, tags=["clothes"])
    def generate_3d(cloth_id: str, body: GenerateRequest | None = None) -> dict:
        body = body or GenerateRequest()
        return service.generate_3d(cloth_id, body.model, body.quality, body.category)

    @router.get("/clothes3d/{cloth3d_id}", tags=["clothes"])
    def get_cloth3d(cloth3d_id: str) -> dict:
        return service.get_result(cloth3d_id, kind=Cloth3D)

    @router.get("/avatar-presets", tags=["avatars"])
    def list_presets() -> list[dict]:
        return service.list_presets()

    @router.post("/avatars", status_code=202, tags=["avatars"])
    def create_avatar(body: AvatarRequest) -> dict:
        return service.create_avatar(body.height_cm, body.chest_cm, body.waist_cm, body.hips_cm, body.gender,
                                     body.user_id)

    @router.get("/avatars/{avatar_id}", tags=["avatars"])
    def get_avatar(avatar_id: str) -> dict:
        return service.get_result(avatar_id, kind=AvatarPreset)

    @router.post("/fit", status_code=202, tags=["fitting"])
    def fit(body: FitRequest) -> dict:
        return service.fit(body.cloth3d_id, body.avatar_preset_id, body.user_id, body.ease, body.tuck_in)

    @router.get("/session/{session_id}/result", tags=["fitting"])
    def session_result(session_id: str) -> dict:
        return service.get_result(session_id, kind=FittingSession)

    @router.get("/healthz", tags=["ops"])
    def healthz() -> JSONResponse:
        checks = service.health()
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if ok else "failed", "checks": checks},
                            status_code=200 if ok else 503)

    storage = service.ctx.storage
    if isinstance(storage, LocalStorage):
        @router.get("/files/{key:path}", tags=["files"], include_in_schema=False)
        def files(key: str) -> FileResponse:
            return FileResponse(storage.local_path(key))  # local_path refuses keys outside the root

    return router
