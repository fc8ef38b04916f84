"""The fitting-room page (Gradio Blocks) and the public Gradio API, both over core.service."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from core.errors import FitroomError
from core.service import FitroomService

POLL_S = 0.3
CATEGORY_CHOICES = ["auto", "top", "bottom", "dress", "outer"]
MODEL_CHOICES = ["auto", "silhouette", "zero123+instantmesh"]
GENERATE_STAGES = ["queued", "cut-out", "category", "reconstruction", "cleanup", "export", "thumbnail"]
FIT_STAGES = ["queued", "fitting", "export", "thumbnail"]
EXTRA_STAGES = ("obj", "turntable")  # made after the garment is shown
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "assets" / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.png"))


def _api(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Service errors become gr.Error: a readable message in the page and in gradio_client."""
    @functools.wraps(fn)  # keeps the signature: Gradio names the API parameters from it
    def wrapper(*args: Any) -> Any:
        try:
            return fn(*args)
        except FitroomError as exc:
            raise gr.Error(str(exc)) from None
    return wrapper


def _wait(service: FitroomService, job_id: str, stages: list[str], progress: gr.Progress,
          timeout_s: float) -> dict:
    """Poll a job, showing its stage and the elapsed time, until it ends."""
    t0 = time.monotonic()
    while True:
        job = service.get_result(job_id)
        if job["status"] != "processing":
            return job
        stage = job.get("stage") or "queued"
        step = stages.index(stage) if stage in stages else 0
        progress((step, len(stages)), desc=f"{stage} · {time.monotonic() - t0:.1f} s")
        if time.monotonic() - t0 > timeout_s:
            raise gr.Error("The job is taking longer than its time limit; check its status later.")
        time.sleep(POLL_S)


def _wait_extras(service: FitroomService, job_id: str, timeout_s: float = 15.0) -> dict:
    """The OBJ zip and turntable follow a finished garment within a second or two: wait for them."""
    deadline = time.monotonic() + timeout_s
    while not (job := service.get_result(job_id))["turntable_url"] and time.monotonic() < deadline:
        time.sleep(POLL_S)
    return job


def _report(metrics: dict) -> str:
    rows = ["| garment | inside body | deepest | clearance p50 | stretch p95 |", "|---|---|---|---|---|"]
    for layer in metrics.get("layers", []):
        rows.append(f"| {layer['name']} | {layer['inside_share']:.2%} | {layer['max_penetration_mm']:.1f} mm "
                    f"| {layer['clearance_mm_p50'] or 0:.0f} mm | {layer['stretch_p95']:.2f} |")
    rows.append(f"\nFitted in {metrics.get('time_s', 0):.2f} s.")
    return "\n".join(rows)


def build_ui(service: FitroomService) -> gr.Blocks:
    settings = service.ctx.settings
    presets = service.list_presets()
    gallery_items = [(str(service.local_files(p["id"])["thumbnail"]), f"{p['name']}") for p in presets]

    with gr.Blocks(title="Fitroom 3D", analytics_enabled=False) as blocks:
        gr.Markdown("# Fitroom 3D\nOne garment photo in, a 3D garment out, dressed on an avatar.")
        garment_id = gr.State(None)
        preset_id = gr.State(presets[0]["id"] if presets else None)
        with gr.Row():
            with gr.Column(scale=1):
                gr.Markdown("### 1 · Garment")
                photo = gr.Image(type="filepath", label="Garment photo", sources=["upload", "clipboard"],
                                 height=280)
                with gr.Row():
                    category = gr.Dropdown(CATEGORY_CHOICES, value="auto", label="Category")
                    quality = gr.Radio(["low", "med"], value="low", label="Quality")
                model = gr.Dropdown(MODEL_CHOICES, value="auto", label="Model")
                if EXAMPLES:
                    gr.Examples([[str(p), "auto"] for p in EXAMPLES], inputs=[photo, category],
                                label="Examples (drawn by scripts/build_examples.py)")
                generate_btn = gr.Button("Generate 3D", variant="primary")
                gen_status = gr.Markdown("Upload a photo of one garment on a plain background.")
                cutout = gr.Image(label="Cut-out", interactive=False, height=200)
                with gr.Accordion("…or import a 3D garment (GLB, OBJ, PLY)", open=False):
                    mesh_file = gr.File(label="3D garment", file_types=[".glb", ".gltf", ".obj", ".ply"])
                    import_btn = gr.Button("Import")
            with gr.Column(scale=1):
                gr.Markdown("### 2 · 3D garment")
                garment_view = gr.Model3D(label="3D garment", height=420, clear_color=(0.96, 0.96, 0.97, 1),
                                           elem_id="garment-view")
                garment_files = gr.File(label="Downloads (GLB, Draco GLB, OBJ zip)", file_count="multiple")
                turntable = gr.Image(label="Turntable", interactive=False, height=200)
            with gr.Column(scale=1):
                gr.Markdown("### 3 · Avatar and fit")
                gallery = gr.Gallery(value=gallery_items, label="Avatar presets", columns=3, height=200,
                                     allow_preview=False, selected_index=0 if presets else None)
                with gr.Row():
                    ease_in = gr.Radio(["tight", "regular", "loose"], value="regular", label="Fit")
                    tuck_box = gr.Checkbox(value=False, label="Tuck the top in")
                fit_btn = gr.Button("Fit", variant="primary")
                fit_status = gr.Markdown("")
                fitted_view = gr.Model3D(label="Dressed avatar", height=420,
                                         clear_color=(0.96, 0.96, 0.97, 1), elem_id="fitted-view")
                fit_report = gr.Markdown("")
                fitted_files = gr.File(label="Downloads (fitted GLB, Draco GLB)", file_count="multiple")

        def on_generate(photo_path, category_v, quality_v, model_v, progress=gr.Progress()):
            if not photo_path:
                raise gr.Error("Upload a garment photo first.")
            try:
                with open(photo_path, "rb") as fh:
                    cloth = service.upload_image(fh, Path(photo_path).name)
                job = service.generate_3d(cloth["id"], model_v, quality_v, category_v)
                job = _wait(service, job["id"], GENERATE_STAGES, progress, settings.generate_timeout_s + 15)
            except FitroomError as exc:
                raise gr.Error(str(exc)) from None
            if job["status"] == "error":
                raise gr.Error(f"Generation failed: {job['log']}")
            return _show_garment(job["id"], f"{job['category']} · {job['model_used']}")

        def _show_garment(job_id: str, what: str):
            job = _wait_extras(service, job_id)
            files = service.local_files(job_id)
            total = sum(v for k, v in job["timings"].items() if k not in EXTRA_STAGES)
            text = f"**Done** in {total:.2f} s · {what} · {job['stats']['faces']} faces"
            downloads = [str(files[k]) for k in ("glb", "gltf", "obj") if k in files]
            return (job_id, str(files["cutout"]) if "cutout" in files else None, str(files["glb"]), text,
                    downloads, str(files["turntable"]) if "turntable" in files else None)

        garment_outputs = [garment_id, cutout, garment_view, gen_status, garment_files, turntable]
        generate_btn.click(on_generate, [photo, category, quality, model], garment_outputs,
                           api_visibility="private", concurrency_limit=4)

        def on_import(mesh_path, category_v):
            if not mesh_path:
                raise gr.Error("Choose a 3D garment file first.")
            try:
                with open(mesh_path, "rb") as fh:
                    job = service.upload_garment_3d(fh, Path(mesh_path).name, category_v)
            except FitroomError as exc:
                raise gr.Error(str(exc)) from None
            return _show_garment(job["id"], f"{job['category']} · imported ({job['log']})")

        import_btn.click(on_import, [mesh_file, category], garment_outputs, api_visibility="private",
                         concurrency_limit=4)

        def on_select(evt: gr.SelectData):
            return presets[evt.index]["id"]

        gallery.select(on_select, None, preset_id, api_visibility="private")

        def on_fit(garment, preset, ease_v, tuck_v, progress=gr.Progress()):
            if not garment:
                raise gr.Error("Generate a 3D garment first.")
            if not preset:
                raise gr.Error("Pick an avatar.")
            try:
                job = service.fit(garment, preset, ease=ease_v, tuck_in=bool(tuck_v))
                job = _wait(service, job["id"], FIT_STAGES, progress, settings.fit_timeout_s + 15)
            except FitroomError as exc:
                raise gr.Error(str(exc)) from None
            if job["status"] == "error":
                raise gr.Error(f"Fitting failed: {job['log']}")
            files = service.local_files(job["id"])
            return (str(files["fitted_glb"]), "**Done**", _report(job["metrics"]),
                    [str(files["fitted_glb"]), str(files["fitted_gltf"])])

        fit_btn.click(on_fit, [garment_id, preset_id, ease_in, tuck_box],
                      [fitted_view, fit_status, fit_report, fitted_files], api_visibility="private",
                      concurrency_limit=4)

        _public_api(service)
    return blocks


def _public_api(service: FitroomService) -> None:
    """The Gradio API: exactly the service's operations, on hidden components."""
    with gr.Group(visible=False):
        file_in = gr.File(label="file", type="filepath")
        # A component's initial value is what gradio_client offers as the parameter's default.
        defaults = {"model": "auto", "quality": "low", "units": "auto", "up": "auto", "ease": "regular"}
        text_in = [gr.Textbox(label=n, value=defaults.get(n)) for n in (
            "user_id", "cloth_id", "model", "quality", "category", "cloth3d_id", "avatar_preset_id", "job_id",
            "units", "up", "ease")]
        user_id, cloth_id, model, quality, category, cloth3d_id, avatar_preset_id, job_id, units, up, ease = text_in
        tuck_in = gr.Checkbox(label="tuck_in", value=False)
        out = gr.JSON(label="result")
        numbers = [gr.Number(label=n) for n in ("height_cm", "chest_cm", "waist_cm", "hips_cm")]
        gender = gr.Textbox(label="gender")
        buttons = [gr.Button(visible=False) for _ in range(7)]

    def upload_image(file: str, user_id: str | None = None) -> dict:
        """Upload a garment photo (PNG, JPEG or WebP); returns the Cloth with status 'uploaded'."""
        if not file:
            raise FitroomError("No file was sent.")
        with open(file, "rb") as fh:
            return service.upload_image(fh, Path(file).name, user_id or None)

    def generate_3d(cloth_id: str, model: str = "auto", quality: str = "low", category: str | None = None) -> dict:
        """Start turning an uploaded photo into a 3D garment; poll get_result with the returned id."""
        return service.generate_3d(cloth_id, model or "auto", quality or "low", category or None)

    def list_presets() -> list[dict]:
        """The avatar presets with their heights, measurements and URLs."""
        return service.list_presets()

    def fit(cloth3d_id: str, avatar_preset_id: str, user_id: str | None = None, ease: str = "regular",
            tuck_in: bool = False) -> dict:
        """Start dressing an avatar; cloth3d_id is one id or several separated by commas (layers);
        ease is tight, regular or loose; tuck_in puts tops under the waistband of bottoms."""
        ids = [i.strip() for i in (cloth3d_id or "").split(",") if i.strip()]
        return service.fit(ids[0] if len(ids) == 1 else ids, avatar_preset_id, user_id or None,
                           ease or "regular", bool(tuck_in))

    def upload_garment_3d(file: str, category: str | None = None, units: str = "auto", up: str = "auto",
                          user_id: str | None = None) -> dict:
        """Import a 3D garment (GLB, embedded glTF, OBJ or PLY, at most 50 MB); units (auto, m, cm, mm)
        and up axis (auto, +y, +z, ...) are guessed unless given. Returns a finished Cloth3D."""
        if not file:
            raise FitroomError("No file was sent.")
        with open(file, "rb") as fh:
            return service.upload_garment_3d(fh, Path(file).name, category or None, units or "auto",
                                             up or "auto", user_id or None)

    def create_avatar(height_cm: float, chest_cm: float, waist_cm: float, hips_cm: float, gender: str,
                      user_id: str | None = None) -> dict:
        """Start building a custom avatar (gender: female or male; centimetres); poll get_result.
        The same measurements give back the same avatar."""
        return service.create_avatar(height_cm, chest_cm, waist_cm, hips_cm, gender, user_id or None)

    def get_result(job_id: str) -> dict:
        """Any job (a 3D garment or a fitting session) with its status and URLs."""
        return service.get_result(job_id)

    b_upload, b_generate, b_presets, b_fit, b_result, b_import, b_avatar = buttons
    b_upload.click(_api(upload_image), [file_in, user_id], out, api_name="upload_image")
    b_generate.click(_api(generate_3d), [cloth_id, model, quality, category], out, api_name="generate_3d")
    b_presets.click(_api(list_presets), None, out, api_name="list_presets")
    b_fit.click(_api(fit), [cloth3d_id, avatar_preset_id, user_id, ease, tuck_in], out, api_name="fit")
    b_result.click(_api(get_result), [job_id], out, api_name="get_result")
    b_import.click(_api(upload_garment_3d), [file_in, category, units, up, user_id], out, api_name="upload_garment_3d")
    b_avatar.click(_api(create_avatar), [*numbers, gender, user_id], out, api_name="create_avatar")
