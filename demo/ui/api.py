"""The public Gradio API ("Use via API"): exactly the service's operations, each on hidden
components so that its parameters carry clear names, defaults and descriptions; and two one-call
operations for scripts, `photo_to_3d` and `dress`, which wait for their job (its stages streamed as
progress) and return its GLB as a file (gradio_client downloads it) with the record.

Every call but `new_token` and `list_presets` says who is calling with a Bearer header, which
gradio_client sends: `Client(url, headers={"Authorization": f"Bearer {token}"})`, the token from the
`new_token` endpoint or from `POST /auth/token`."""

from __future__ import annotations

import gradio as gr

from core.choices import Category, Ease, Gender, Model, Quality, Units, Up, values
from core.identity import Caller, bearer
from core.service import FitroomService
from demo.gradio_files import client_file, upload_folder
from demo.origin import base_url
from demo.ui.calls import fitted, generated, upload_photo
from demo.ui.errors import handled


def _layers(cloth3d_id: str | None) -> str | list[str]:
    """One garment id, or the layers of "id, id, …"."""
    ids = [i.strip() for i in (cloth3d_id or "").split(",") if i.strip()]
    return ids[0] if len(ids) == 1 else ids


def _choice(choices: list[str], value: str, label: str) -> gr.Dropdown:
    """A dropdown whose choices the API page lists, and whose other values the service refuses with
    its own message (Gradio's own refusal printed a traceback for a client's typo)."""
    return gr.Dropdown(choices, value=value, label=label, allow_custom_value=True)


class Inputs:
    """The API's hidden components: each parameter's name, description and default (its initial
    value). Choices come from core's own tables, so the API page lists what is accepted."""

    def __init__(self) -> None:
        self.file = gr.File(label="file: the garment photo or 3D garment to upload", type="filepath")
        self.back = gr.File(label="back: optional, a photo of the garment from behind (it textures the back)",
                            type="filepath")
        self.user_id = gr.Textbox(label="user_id: deprecated (the token says who you are); only your own is accepted")
        self.cloth_id = gr.Textbox(label="cloth_id: the id upload_image returned")
        self.model = _choice(values(Model), "auto", "model: auto uses the GPU path when it can run")
        self.quality = _choice(values(Quality), "low", "quality: low is fastest, med is finer")
        self.category = _choice(values(Category), "auto", "category: auto guesses it")
        self.cloth3d_id = gr.Textbox(label="cloth3d_id: one 3D garment id, or several separated by commas")
        self.avatar_preset_id = gr.Textbox(label="avatar_preset_id: an id from list_presets or create_avatar")
        self.job_id = gr.Textbox(label="job_id: any id a job-starting call returned")
        self.units = _choice(values(Units), "auto", "units of the 3D file")
        self.up = _choice(values(Up), "auto", "up axis of the 3D file")
        self.ease = _choice(values(Ease), "regular", "ease: how loosely the garment fits")
        self.tuck_in = gr.Checkbox(label="tuck_in: the top goes under the waistband", value=False)
        self.numbers = [gr.Number(label=f"{n}: centimetres") for n in ("height_cm", "chest_cm", "waist_cm", "hips_cm")]
        self.gender = _choice(values(Gender), "female", "gender")
        self.out = gr.JSON(label="result")
        self.garment_glb = gr.File(label="the 3D garment: a plain GLB file")
        self.fitted_glb = gr.File(label="the dressed avatar: a GLB file (nodes avatar, garment_<category>)")
        self.buttons = [gr.Button(visible=False) for _ in range(10)]


class Operations:
    """The API's functions: their names, parameters and docstrings are the API's own."""

    def __init__(self, service: FitroomService) -> None:
        self.service, self.settings = service, service.ctx.settings
        self.uploads = (upload_folder(self.settings),)  # the only files an API call may name

    def me(self, request: gr.Request | None, user_id: str | None = None) -> Caller:
        """The caller the Bearer header names (an old `user_id` must name it too), at the request's root URL."""
        headers = request.headers if request is not None else {}
        client = request.client.host if request is not None and request.client else None
        caller = self.service.caller(bearer(headers.get("authorization")), client)
        caller.claim(user_id)
        return caller.at(base_url(request.request if request is not None else None))

    @handled
    def new_token(self, request: gr.Request) -> dict:
        """A new anonymous user and its token: send it as 'Authorization: Bearer <token>' on every call
        (gradio_client: Client(url, headers={"Authorization": "Bearer " + token}))."""
        return self.service.new_token(request.client.host if request.client else None)

    @handled
    def upload_image(self, file: str, back: str | None = None, user_id: str | None = None,
                     request: gr.Request = None) -> dict:
        """Upload a garment photo (PNG, JPEG or WebP) and, optionally, a photo of its back (it textures
        the 3D garment's back); returns the Cloth with status 'uploaded'."""
        return upload_photo(self.service, self.uploads, file, back or None, self.me(request, user_id))

    @handled
    def generate_3d(self, cloth_id: str, model: str = "auto", quality: str = "low", category: str | None = None,
                    user_id: str | None = None, request: gr.Request = None) -> dict:
        """Start turning your uploaded photo into a 3D garment; poll get_result with the returned id."""
        return self.service.generate_3d(cloth_id, model or "auto", quality or "low", category or None,
                                        caller=self.me(request, user_id))

    @handled
    def list_presets(self, request: gr.Request = None) -> list[dict]:
        """The avatar presets with their heights, measurements and URLs (and, with a token, your own
        custom avatars)."""
        credential = bearer((request.headers if request is not None else {}).get("authorization"))
        return self.service.list_presets(self.me(request) if credential else None,
                                         base_url=base_url(request.request if request is not None else None))

    @handled
    def fit(self, cloth3d_id: str, avatar_preset_id: str, ease: str = "regular", tuck_in: bool = False,
            user_id: str | None = None, request: gr.Request = None) -> dict:
        """Start dressing an avatar; cloth3d_id is one id or several separated by commas (layers);
        ease is tight, regular or loose; tuck_in puts tops under the waistband of bottoms."""
        return self.service.fit(_layers(cloth3d_id), avatar_preset_id, ease or "regular", bool(tuck_in),
                                caller=self.me(request, user_id))

    @handled
    def upload_garment_3d(self, file: str, category: str | None = None, units: str = "auto", up: str = "auto",
                          user_id: str | None = None, request: gr.Request = None) -> dict:
        """Import a 3D garment (GLB, embedded glTF, OBJ or PLY, at most 50 MB); units (auto, m, cm, mm)
        and up axis (auto, +y, +z, ...) are guessed unless given. Returns a finished Cloth3D."""
        caller = self.me(request, user_id)
        path = client_file(file, self.uploads, int(self.settings.max_import_mb * 2**20))
        with path.open("rb") as fh:
            return self.service.upload_garment_3d(fh, path.name, category or None, units or "auto", up or "auto",
                                                  caller=caller)

    @handled
    def create_avatar(self, height_cm: float, chest_cm: float, waist_cm: float, hips_cm: float, gender: str,
                      user_id: str | None = None, request: gr.Request = None) -> dict:
        """Start building your custom avatar (gender: female or male; centimetres); poll get_result.
        The same measurements give back the same avatar."""
        return self.service.create_avatar(height_cm, chest_cm, waist_cm, hips_cm, gender,
                                          caller=self.me(request, user_id))

    @handled
    def get_result(self, job_id: str, user_id: str | None = None, request: gr.Request = None) -> dict:
        """Any of your jobs (a 3D garment, a fitting session or an avatar) with its status and URLs."""
        return self.service.get_result(job_id, caller=self.me(request, user_id))

    @handled
    def photo_to_3d(self, photo: str, model: str = "auto", quality: str = "low", category: str | None = None,
                    back: str | None = None, user_id: str | None = None, request: gr.Request = None,
                    progress: gr.Progress = gr.Progress()) -> tuple[str, dict]:
        """One call from a garment photo (and, optionally, a photo of its back) to a finished 3D
        garment: uploads it, runs generate_3d (its stages stream as progress) and returns the plain
        GLB as a file, with the record."""
        caller = self.me(request, user_id)
        cloth = upload_photo(self.service, self.uploads, photo, back, caller)
        job = generated(self.service, cloth["id"], model or "auto", quality or "low", category or None, caller,
                        progress)
        return str(self.service.local_files(job["id"], caller=caller)["glb"]), job

    @handled
    def dress(self, cloth3d_id: str, avatar_preset_id: str, ease: str = "regular", tuck_in: bool = False,
              user_id: str | None = None, request: gr.Request = None,
              progress: gr.Progress = gr.Progress()) -> tuple[str, dict]:
        """One call to a dressed avatar: runs fit (its stages stream as progress) and returns the
        fitted GLB as a file, with the fitting session; cloth3d_id is one id or several separated
        by commas (layers)."""
        caller = self.me(request, user_id)
        job = fitted(self.service, _layers(cloth3d_id), avatar_preset_id, ease or "regular", bool(tuck_in), caller,
                     progress)
        return str(self.service.local_files(job["id"], caller=caller)["fitted_glb"]), job


def public_api(service: FitroomService) -> None:
    """The Gradio API: exactly the service's operations, each on a hidden button named for it."""
    ops = Operations(service)
    with gr.Group(visible=False):
        i = Inputs()
    b_upload, b_generate, b_presets, b_fit, b_result, b_import, b_avatar, b_token, b_photo, b_dress = i.buttons
    b_token.click(ops.new_token, None, i.out, api_name="new_token")
    b_upload.click(ops.upload_image, [i.file, i.back, i.user_id], i.out, api_name="upload_image")
    b_generate.click(ops.generate_3d, [i.cloth_id, i.model, i.quality, i.category, i.user_id], i.out,
                     api_name="generate_3d")
    b_presets.click(ops.list_presets, None, i.out, api_name="list_presets")
    b_fit.click(ops.fit, [i.cloth3d_id, i.avatar_preset_id, i.ease, i.tuck_in, i.user_id], i.out,  # optional last
                api_name="fit")
    b_result.click(ops.get_result, [i.job_id, i.user_id], i.out, api_name="get_result")
    b_import.click(ops.upload_garment_3d, [i.file, i.category, i.units, i.up, i.user_id], i.out,
                   api_name="upload_garment_3d")
    b_avatar.click(ops.create_avatar, [*i.numbers, i.gender, i.user_id], i.out, api_name="create_avatar")
    b_photo.click(ops.photo_to_3d, [i.file, i.model, i.quality, i.category, i.back, i.user_id], [i.garment_glb, i.out],
                  api_name="photo_to_3d", concurrency_limit=4)
    b_dress.click(ops.dress, [i.cloth3d_id, i.avatar_preset_id, i.ease, i.tuck_in, i.user_id], [i.fitted_glb, i.out],
                  api_name="dress", concurrency_limit=4)
