"""The public Gradio API ("Use via API"): exactly the service's operations, each on hidden
components so that its parameters carry clear names, defaults and descriptions; and two one-call
operations for scripts, `photo_to_3d` and `dress`, which wait for their job (its stages streamed as
progress) and return its GLB as a file (gradio_client downloads it) with the record.

Every call but `new_token` and `list_presets` says who is calling with a Bearer header, which
gradio_client sends: `Client(url, headers={"Authorization": f"Bearer {token}"})`, the token from the
`new_token` endpoint or from `POST /auth/token`."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import gradio as gr

from core.choices import Category, Ease, Gender, Model, Quality, Units, Up, values
from core.errors import FitroomError, about
from core.identity import Caller, bearer
from core.service import BACK_PHOTO, FitroomService
from core.tasks import FIT_STAGES, GENERATE_STAGES
from demo.gradio_files import client_file, upload_folder
from demo.origin import base_url
from demo.ui.errors import refused
from demo.ui.progress import wait

log = logging.getLogger("fitroom.api")


def _api(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Service errors become gr.Error: a readable message in gradio_client, one log line. A bug is
    one JSON log line with its traceback (Gradio would print it raw between the JSON lines), and
    the caller reads that it is logged."""
    @functools.wraps(fn)  # keeps the signature: Gradio names the API parameters from it
    def wrapper(*args: Any) -> Any:
        try:
            return fn(*args)
        except FitroomError as exc:
            raise refused(exc) from None
        except gr.Error:
            raise
        except Exception:
            log.exception("api call failed", extra={"api": fn.__name__})
            raise gr.Error(f"Internal error in {fn.__name__}; it is logged on the server.",
                           print_exception=False) from None
    return wrapper


def _layers(cloth3d_id: str | None) -> str | list[str]:
    """One garment id, or the layers of "id, id, …"."""
    ids = [i.strip() for i in (cloth3d_id or "").split(",") if i.strip()]
    return ids[0] if len(ids) == 1 else ids


def _choice(choices: list[str], value: str, label: str) -> gr.Dropdown:
    """A dropdown whose choices the API page lists, and whose other values the service refuses with
    its own message (Gradio's own refusal printed a traceback for a client's typo)."""
    return gr.Dropdown(choices, value=value, label=label, allow_custom_value=True)


def public_api(service: FitroomService) -> None:
    """The Gradio API: exactly the service's operations. Choices come from core's own tables, so
    the API page lists what is accepted; a component's initial value is the parameter's default.
    Long because it is the API's one list: each operation a closure over the shared components and
    `me`, named and documented on the API page by its own name and docstring."""
    settings = service.ctx.settings
    uploads = (upload_folder(settings),)  # the only files an API call may name
    with gr.Group(visible=False):
        file_in = gr.File(label="file: the garment photo or 3D garment to upload", type="filepath")
        back_in = gr.File(label="back: optional, a photo of the garment from behind (it textures the back)",
                          type="filepath")
        user_id = gr.Textbox(label="user_id: deprecated (the token says who you are); only your own is accepted")
        cloth_id = gr.Textbox(label="cloth_id: the id upload_image returned")
        model = _choice(values(Model), "auto", "model: auto uses the GPU path when it can run")
        quality = _choice(values(Quality), "low", "quality: low is fastest, med is finer")
        category = _choice(values(Category), "auto", "category: auto guesses it")
        cloth3d_id = gr.Textbox(label="cloth3d_id: one 3D garment id, or several separated by commas")
        avatar_preset_id = gr.Textbox(label="avatar_preset_id: an id from list_presets or create_avatar")
        job_id = gr.Textbox(label="job_id: any id a job-starting call returned")
        units = _choice(values(Units), "auto", "units of the 3D file")
        up = _choice(values(Up), "auto", "up axis of the 3D file")
        ease = _choice(values(Ease), "regular", "ease: how loosely the garment fits")
        tuck_in = gr.Checkbox(label="tuck_in: the top goes under the waistband", value=False)
        numbers = [gr.Number(label=f"{n}: centimetres") for n in ("height_cm", "chest_cm", "waist_cm", "hips_cm")]
        gender = _choice(values(Gender), "female", "gender")
        out = gr.JSON(label="result")
        garment_glb = gr.File(label="the 3D garment: a plain GLB file")
        fitted_glb = gr.File(label="the dressed avatar: a GLB file (nodes avatar, garment_<category>)")
        buttons = [gr.Button(visible=False) for _ in range(10)]

    def me(request: gr.Request | None, user_id: str | None = None) -> Caller:
        headers = request.headers if request is not None else {}
        client = request.client.host if request is not None and request.client else None
        caller = service.caller(bearer(headers.get("authorization")), client)
        caller.claim(user_id)
        return caller.at(base_url(request.request if request is not None else None))

    def new_token(request: gr.Request) -> dict:
        """A new anonymous user and its token: send it as 'Authorization: Bearer <token>' on every call
        (gradio_client: Client(url, headers={"Authorization": "Bearer " + token}))."""
        return service.new_token(request.client.host if request.client else None)

    def upload(file: str, caller: Caller, back: str | None = None) -> dict:
        path = client_file(file, uploads, settings.max_upload_bytes)
        with about(BACK_PHOTO):
            back_path = client_file(back, uploads, settings.max_upload_bytes) if back else None
        with path.open("rb") as fh, (back_path.open("rb") if back_path else nullcontext()) as back_fh:
            return service.upload_image(fh, path.name, back_fh, caller=caller)

    def upload_image(file: str, back: str | None = None, user_id: str | None = None,
                     request: gr.Request = None) -> dict:
        """Upload a garment photo (PNG, JPEG or WebP) and, optionally, a photo of its back (it textures
        the 3D garment's back); returns the Cloth with status 'uploaded'."""
        return upload(file, me(request, user_id), back or None)

    def generate_3d(cloth_id: str, model: str = "auto", quality: str = "low", category: str | None = None,
                    user_id: str | None = None, request: gr.Request = None) -> dict:
        """Start turning your uploaded photo into a 3D garment; poll get_result with the returned id."""
        return service.generate_3d(cloth_id, model or "auto", quality or "low", category or None,
                                   caller=me(request, user_id))

    def list_presets(request: gr.Request = None) -> list[dict]:
        """The avatar presets with their heights, measurements and URLs (and, with a token, your own
        custom avatars)."""
        credential = bearer((request.headers if request is not None else {}).get("authorization"))
        return service.list_presets(me(request) if credential else None,
                                    base_url=base_url(request.request if request is not None else None))

    def fit(cloth3d_id: str, avatar_preset_id: str, ease: str = "regular", tuck_in: bool = False,
            user_id: str | None = None, request: gr.Request = None) -> dict:
        """Start dressing an avatar; cloth3d_id is one id or several separated by commas (layers);
        ease is tight, regular or loose; tuck_in puts tops under the waistband of bottoms."""
        return service.fit(_layers(cloth3d_id), avatar_preset_id, ease or "regular", bool(tuck_in),
                           caller=me(request, user_id))

    def upload_garment_3d(file: str, category: str | None = None, units: str = "auto", up: str = "auto",
                          user_id: str | None = None, request: gr.Request = None) -> dict:
        """Import a 3D garment (GLB, embedded glTF, OBJ or PLY, at most 50 MB); units (auto, m, cm, mm)
        and up axis (auto, +y, +z, ...) are guessed unless given. Returns a finished Cloth3D."""
        caller = me(request, user_id)
        path = client_file(file, uploads, int(settings.max_import_mb * 2**20))
        with path.open("rb") as fh:
            return service.upload_garment_3d(fh, path.name, category or None, units or "auto", up or "auto",
                                             caller=caller)

    def create_avatar(height_cm: float, chest_cm: float, waist_cm: float, hips_cm: float, gender: str,
                      user_id: str | None = None, request: gr.Request = None) -> dict:
        """Start building your custom avatar (gender: female or male; centimetres); poll get_result.
        The same measurements give back the same avatar."""
        return service.create_avatar(height_cm, chest_cm, waist_cm, hips_cm, gender, caller=me(request, user_id))

    def get_result(job_id: str, user_id: str | None = None, request: gr.Request = None) -> dict:
        """Any of your jobs (a 3D garment, a fitting session or an avatar) with its status and URLs."""
        return service.get_result(job_id, caller=me(request, user_id))

    def photo_to_3d(photo: str, model: str = "auto", quality: str = "low", category: str | None = None,
                    back: str | None = None, user_id: str | None = None, request: gr.Request = None,
                    progress: gr.Progress = gr.Progress()) -> tuple[str, dict]:
        """One call from a garment photo (and, optionally, a photo of its back) to a finished 3D
        garment: uploads it, runs generate_3d (its stages stream as progress) and returns the plain
        GLB as a file, with the record."""
        caller = me(request, user_id)
        cloth = upload(photo, caller, back)
        job = service.generate_3d(cloth["id"], model or "auto", quality or "low", category or None, caller=caller)
        job = wait(service, job["id"], GENERATE_STAGES, progress, settings.generate_timeout_s + 15, caller,
                   failed="Generation failed")
        return str(service.local_files(job["id"], caller=caller)["glb"]), job

    def dress(cloth3d_id: str, avatar_preset_id: str, ease: str = "regular", tuck_in: bool = False,
              user_id: str | None = None, request: gr.Request = None,
              progress: gr.Progress = gr.Progress()) -> tuple[str, dict]:
        """One call to a dressed avatar: runs fit (its stages stream as progress) and returns the
        fitted GLB as a file, with the fitting session; cloth3d_id is one id or several separated
        by commas (layers)."""
        caller = me(request, user_id)
        job = service.fit(_layers(cloth3d_id), avatar_preset_id, ease or "regular", bool(tuck_in), caller=caller)
        job = wait(service, job["id"], FIT_STAGES, progress, settings.fit_timeout_s + 15, caller,
                   failed="Fitting failed")
        return str(service.local_files(job["id"], caller=caller)["fitted_glb"]), job

    b_upload, b_generate, b_presets, b_fit, b_result, b_import, b_avatar, b_token, b_photo, b_dress = buttons
    b_token.click(_api(new_token), None, out, api_name="new_token")
    b_upload.click(_api(upload_image), [file_in, back_in, user_id], out, api_name="upload_image")
    b_generate.click(_api(generate_3d), [cloth_id, model, quality, category, user_id], out, api_name="generate_3d")
    b_presets.click(_api(list_presets), None, out, api_name="list_presets")
    b_fit.click(_api(fit), [cloth3d_id, avatar_preset_id, ease, tuck_in, user_id], out, api_name="fit")  # optional last
    b_result.click(_api(get_result), [job_id, user_id], out, api_name="get_result")
    b_import.click(_api(upload_garment_3d), [file_in, category, units, up, user_id], out, api_name="upload_garment_3d")
    b_avatar.click(_api(create_avatar), [*numbers, gender, user_id], out, api_name="create_avatar")
    b_photo.click(_api(photo_to_3d), [file_in, model, quality, category, back_in, user_id], [garment_glb, out],
                  api_name="photo_to_3d", concurrency_limit=4)
    b_dress.click(_api(dress), [cloth3d_id, avatar_preset_id, ease, tuck_in, user_id], [fitted_glb, out],
                  api_name="dress", concurrency_limit=4)
