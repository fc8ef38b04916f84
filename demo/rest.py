"""REST routes of the design notes, each a thin call into core.service.

Every route declares its response model and error codes, so that /openapi.json tells the truth
(a schemathesis run checks each response against it)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from core.avatars.custom import LIMITS
from core.choices import Category, Ease, Gender, Model, Quality, Units, Up
from core.file_urls import WAIT_MAX_S, BadSignature, UrlExpired
from core.identity import Caller
from core.models import AvatarPreset, Cloth3D, FittingSession
from core.schemas import AvatarRecord, Cloth3DRecord, ClothRecord, FittingRecord, Health, Token
from core.service import FitroomService
from core.storage import LocalStorage
from demo.origin import base_url

TOKEN_COOKIE = "fitroom_token"
DEPRECATED_USER = "deprecated: the token says who you are; accepted only where it names the caller"
WAITERS = 256  # requests held at once for files not yet stored (`wait=`)
WAIT_POLL_S = 0.02  # how often a held request looks for its file
BACK_FILE = "optional: the garment seen from behind; it textures the 3D garment's back"


class GenerateRequest(BaseModel):
    model: Model = Model.AUTO
    quality: Quality = Quality.LOW
    category: Category | None = None
    user_id: str | None = Field(None, description=DEPRECATED_USER)


def _measure(name: str) -> float:
    """A measurement field bounded by the core's own limits (core/avatars/custom.py LIMITS)."""
    low, high = LIMITS[name]
    return Field(ge=low, le=high)


class AvatarRequest(BaseModel):
    height_cm: float = _measure("height_cm")
    chest_cm: float = _measure("chest_cm")
    waist_cm: float = _measure("waist_cm")
    hips_cm: float = _measure("hips_cm")
    gender: Gender
    user_id: str | None = Field(None, description=DEPRECATED_USER)


class FitRequest(BaseModel):
    cloth3d_id: str | list[str] = Field(description="one 3D garment id, or a list of layers")
    avatar_preset_id: str
    ease: Ease = Ease.REGULAR
    tuck_in: bool = Field(False, description="tops under the waistband of bottoms, not over it")
    user_id: str | None = Field(None, description=DEPRECATED_USER)


class ErrorOut(BaseModel):
    detail: str = Field(description="what went wrong, for a person to read")


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorOut} for code in codes}


COMMON_ERRORS = _errors(400, 401, 403, 404, 429, 503)  # bad input, who?, not yours, unknown id, too many, down
UPLOAD_ERRORS = _errors(413, 415)
UserQuery = Annotated[str | None, Query(description=DEPRECATED_USER)]
Limit = Annotated[int, Query(ge=1, le=100, description="rows in one page")]
After = Annotated[str | None, Query(description="the last id of the previous page")]
_BEARER = HTTPBearer(auto_error=False, description="a token from POST /auth/token, or an operator's API key")
_COOKIE = APIKeyCookie(name=TOKEN_COOKIE, auto_error=False, description="the token, as POST /auth/token sets it")


def client_address(request: Request) -> str | None:
    """The peer's address (uvicorn puts a trusted proxy's X-Forwarded-For there: FORWARDED_ALLOW_IPS)."""
    return request.client.host if request.client else None


Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]
Cookie = Annotated[str | None, Depends(_COOKIE)]


def caller(request: Request, auth: Bearer, cookie: Cookie) -> Caller:
    """The verified caller of a request: its Bearer token or API key, else its cookie (401 without)."""
    service: FitroomService = request.app.state.service
    return service.caller(auth.credentials if auth else cookie, client_address(request)).at(base_url(request))


Me = Annotated[Caller, Depends(caller)]


def build_router(service: FitroomService) -> APIRouter:
    """The routes, by concern as the services are, in the order /openapi.json lists them."""
    router = APIRouter(responses=COMMON_ERRORS)
    for add in (_auth_routes, _garment_routes, _avatar_routes, _fitting_routes, _ops_routes):
        add(router, service)
    return router


def _listing(router: APIRouter, path: str, name: str, tag: str, record: type[BaseModel],
             lister: Callable[[Caller, int, str | None], list[Any]]) -> None:
    """GET `path`: the caller's own records, newest first, a page at a time (`limit` rows after `after`)."""
    def listing(me: Me, user_id: UserQuery = None, limit: Limit = 50, after: After = None) -> list[Any]:
        me.claim(user_id)
        return lister(me, limit, after)

    router.add_api_route(path, listing, methods=["GET"], name=name, tags=[tag], response_model=list[record])


def _auth_routes(router: APIRouter, service: FitroomService) -> None:
    @router.post("/auth/token", status_code=201, tags=["auth"])
    def new_token(request: Request, response: Response) -> Token:
        """A new anonymous user. REST clients send the token as a Bearer header; a browser also gets it as
        an HttpOnly cookie (SameSite=Lax: no other site's form can post with it)."""
        issued = service.new_token(client_address(request))
        response.set_cookie(TOKEN_COOKIE, issued["token"], httponly=True, samesite="lax",
                            secure=request.url.scheme == "https",
                            max_age=int(service.ctx.settings.token_max_age_days * 86400))
        return issued


def _garment_routes(router: APIRouter, service: FitroomService) -> None:
    @router.post("/clothes/upload-image", status_code=201, tags=["clothes"], responses=UPLOAD_ERRORS)
    def upload_image(me: Me, file: Annotated[UploadFile, File(description="the garment photo (PNG, JPEG, WebP)")],
                     back: Annotated[UploadFile | None, File(description=BACK_FILE)] = None,
                     user_id: Annotated[str | None, Form(description=DEPRECATED_USER)] = None) -> ClothRecord:
        me.claim(user_id)
        return service.upload_image(file.file, file.filename, back.file if back else None, caller=me)

    @router.post("/clothes3d/import", status_code=201, tags=["clothes"], responses=UPLOAD_ERRORS)
    def import_garment_3d(me: Me, file: Annotated[UploadFile, File(description="GLB, glTF (embedded), OBJ or PLY")],
                          category: Annotated[Category | None, Form()] = None,
                          units: Annotated[Units, Form()] = Units.AUTO,
                          up: Annotated[Up, Form()] = Up.AUTO,
                          user_id: Annotated[str | None, Form(description=DEPRECATED_USER)] = None) -> Cloth3DRecord:
        me.claim(user_id)
        return service.upload_garment_3d(file.file, file.filename, category, units, up, caller=me)

    @router.post("/clothes/{cloth_id}/generate-3d", status_code=202, tags=["clothes"])
    def generate_3d(me: Me, cloth_id: str, body: GenerateRequest | None = None) -> Cloth3DRecord:
        body = body or GenerateRequest()
        me.claim(body.user_id)
        return service.generate_3d(cloth_id, body.model, body.quality, body.category, caller=me)

    @router.get("/clothes3d/{cloth3d_id}", tags=["clothes"])
    def get_cloth3d(me: Me, cloth3d_id: str, user_id: UserQuery = None) -> Cloth3DRecord:
        me.claim(user_id)
        return service.get_result(cloth3d_id, kind=Cloth3D, caller=me)

    _listing(router, "/clothes3d", "list_garments", "clothes", Cloth3DRecord, service.list_garments)


def _avatar_routes(router: APIRouter, service: FitroomService) -> None:
    @router.get("/avatar-presets", tags=["avatars"])
    def list_presets(request: Request, auth: Bearer, cookie: Cookie) -> list[AvatarRecord]:
        """The presets, for anyone; with a token, the caller's own custom avatars after them."""
        credential = auth.credentials if auth else cookie
        return service.list_presets(caller(request, auth, cookie) if credential else None,
                                    base_url=base_url(request))

    @router.post("/avatars", status_code=202, tags=["avatars"])
    def create_avatar(me: Me, body: AvatarRequest) -> AvatarRecord:
        me.claim(body.user_id)
        return service.create_avatar(body.height_cm, body.chest_cm, body.waist_cm, body.hips_cm, body.gender,
                                     caller=me)

    @router.get("/avatars/{avatar_id}", tags=["avatars"])
    def get_avatar(me: Me, avatar_id: str) -> AvatarRecord:
        return service.get_result(avatar_id, kind=AvatarPreset, caller=me)


def _fitting_routes(router: APIRouter, service: FitroomService) -> None:
    @router.post("/fit", status_code=202, tags=["fitting"])
    def fit(me: Me, body: FitRequest) -> FittingRecord:
        me.claim(body.user_id)
        return service.fit(body.cloth3d_id, body.avatar_preset_id, body.ease, body.tuck_in, caller=me)

    _listing(router, "/fittings", "list_fittings", "fitting", FittingRecord, service.list_fittings)

    @router.get("/session/{session_id}/result", tags=["fitting"])
    def session_result(me: Me, session_id: str, user_id: UserQuery = None) -> FittingRecord:
        me.claim(user_id)
        return service.get_result(session_id, kind=FittingSession, caller=me)


def _ops_routes(router: APIRouter, service: FitroomService) -> None:
    @router.get("/healthz", tags=["ops"], response_model=Health, responses={503: {"model": Health}})
    def healthz() -> JSONResponse:
        body = Health.of(service.health())
        return JSONResponse(body.model_dump(), status_code=200 if body.status == "ok" else 503)

    storage = service.ctx.storage
    if isinstance(storage, LocalStorage):
        waiting = [0]  # requests held for an object not yet stored, in this process

        @router.get("/files/{key:path}", tags=["files"], include_in_schema=False)
        async def files(request: Request, key: str, expires: str | None = None, sig: str | None = None,
                        wait: Annotated[int, Query(ge=0, le=WAIT_MAX_S)] = 0) -> Response:
            """Only with a signature from `storage.url` that has not expired (403, 410 when expired).
            With `wait` (seconds; `storage.url_when_stored`'s URLs), an object not yet stored is
            waited for, the request answered once it is written (404 if it is not by then): a
            viewer asks for a job's model as the job starts. Holding a request is a coroutine
            polling a file's existence; at most WAITERS at once (429 beyond)."""
            try:
                left = storage.signer.check(key, expires, sig)
            except (BadSignature, UrlExpired) as exc:  # no-store: a 410 is cacheable by default
                return JSONResponse({"detail": str(exc)}, exc.status_code, headers={"cache-control": "no-store"})
            if wait and not storage.exists(key):
                if waiting[0] >= WAITERS:
                    return JSONResponse({"detail": "Too many requests are waiting for files; try again."}, 429,
                                        headers={"cache-control": "no-store", "retry-after": "1"})
                waiting[0] += 1
                try:
                    deadline = time.monotonic() + min(wait, left)
                    while not storage.exists(key) and time.monotonic() < deadline:
                        if await request.is_disconnected():
                            break
                        await asyncio.sleep(WAIT_POLL_S)
                finally:
                    waiting[0] -= 1
                if not storage.exists(key):
                    return JSONResponse({"detail": "The file was not made in time (its job may have failed)."},
                                        404, headers={"cache-control": "no-store"})
            # local_path refuses keys outside the root. Cached privately (the files are someone's),
            # and never past the URL's own end.
            return FileResponse(storage.local_path(key), headers={"cache-control": f"private, max-age={left}"})
