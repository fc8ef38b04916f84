"""The fitting-room page (Gradio Blocks): a guided flow over core.service, in four steps side by
side — 1 garment, 2 the 3D garment, 3 avatar and outfit, 4 the dressed avatar — and the person's
recent garments and fittings. It only wires; the public API is in api.py.

Who the visitor is lives on the server: the browser keeps only its token, sealed with a key that
never leaves the server (BrowserState's own secret is sent to every page), and each session holds
the verified caller in a gr.State, which clients cannot write. The recent garments and fittings
are the caller's own rows, listed by the server."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from contextlib import nullcontext
from pathlib import Path

import gradio as gr
from PIL import Image

from core.ai.reconstructors import licence_note
from core.avatars.custom import LIMITS
from core.choices import Category, Ease, Gender, Model, Quality, values
from core.errors import FitroomError, about
from core.garment.registry import SURE
from core.identity import Caller
from core.models import Cloth3D, FittingSession
from core.pipeline import job_seconds
from core.service import BACK_PHOTO, FitroomService
from core.tasks import AVATAR_STAGES, FIT_STAGES, GENERATE_STAGES
from demo.gradio_files import client_file, upload_folder
from demo.origin import base_url
from demo.ui import view
from demo.ui.api import public_api
from demo.ui.errors import refused
from demo.ui.progress import wait, wait_extras

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "assets" / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.png"))
EXAMPLE_CATEGORIES = json.loads((EXAMPLES_DIR / "categories.json").read_text()) if EXAMPLES else {}
VIEW_BG = (0.96, 0.96, 0.97, 1)
CSS = """
.step-title h3 { margin: 0 0 .25rem 0; }
#fit-report table { font-size: .8rem; }
#fit-report th, #fit-report td { padding: 4px 6px; word-break: normal; overflow-wrap: normal; hyphens: none; }
"""


class Shown:
    """Which garment (step 2) and fitting (step 4) each page session shows now: a job's extras,
    which arrive a moment after it is shown, go to the page only if it still shows that job (a
    history tile clicked meanwhile wins). Bounded: the sessions seen longest ago are forgotten,
    and a forgotten session takes its extras."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self.ids: OrderedDict[tuple[str, str], str] = OrderedDict()

    def show(self, request: gr.Request | None, kind: str, job_id: str) -> None:
        if request is not None and request.session_hash:
            self.ids[(request.session_hash, kind)] = job_id
            self.ids.move_to_end((request.session_hash, kind))
            while len(self.ids) > self.limit:
                self.ids.popitem(last=False)

    def still(self, request: gr.Request | None, kind: str, job_id: str) -> bool:
        key = (request.session_hash if request is not None else None, kind)
        return self.ids.get(key, job_id) == job_id  # type: ignore[arg-type]


def _pending_tile(folder: Path) -> Path:
    """The tile a history entry shows until its thumbnail, one of its extras, is made."""
    path = folder / "pending-tile.png"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (64, 64), (236, 236, 240)).save(path)
    return path


def _verified(me: Caller | None) -> Caller:
    if me is None:  # a page event sent without the page (by fn_index), or a session that expired
        raise refused("Please reload the page.")
    return me


def _measure(name: str, label: str, value: float) -> gr.Number:
    """A measurement field bounded by the core's own limits, as the service checks them."""
    low, high = LIMITS[name]
    return gr.Number(value, label=label, minimum=low, maximum=high, min_width=80)


def _tiles(label: str, elem_id: str, columns: int = 6, height: int = 170) -> gr.Gallery:
    """A row of clickable thumbnails (a click picks, it does not open a preview)."""
    return gr.Gallery(label=label, columns=columns, height=height, allow_preview=False, preview=False,
                      fit_columns=False, elem_id=elem_id)


def build_ui(service: FitroomService) -> gr.Blocks:
    settings = service.ctx.settings
    uploads = (upload_folder(settings), EXAMPLES_DIR)  # the only files a page event may name
    example_jobs: dict[tuple, str] = {}  # example photo (hash, category) → its finished garment
    example_category = {hashlib.sha256(p.read_bytes()).hexdigest(): EXAMPLE_CATEGORIES.get(p.name, "auto")
                        for p in EXAMPLES}
    shown = Shown()
    pending_tile = _pending_tile(settings.cache_dir)

    # Gradio keeps a copy of every file sent to the page (refused ones too): drop them after an hour.
    with gr.Blocks(title="Fitroom 3D", analytics_enabled=False, fill_width=True,
                   delete_cache=(3600, 3600)) as blocks:
        gr.Markdown("# Fitroom 3D\nOne garment photo in, a 3D garment out, dressed on an avatar — "
                    "**1** pick a garment · **2** look at it in 3D · **3** choose an avatar and the outfit · "
                    "**4** see it worn.")
        token_box = gr.BrowserState(None, storage_key="fitroom-token")  # only the sealed token
        me = gr.State(None)  # the verified caller: server-side, per session
        history = gr.State([])  # the caller's recent garments and fittings, from the server
        garment_id = gr.State(None)
        fitting_id = gr.State(None)  # the fitting step 4 shows
        avatars = gr.State([])  # what the gallery shows, in its order (filled on page load)
        avatar_id = gr.State(None)

        with gr.Row(equal_height=False):
            with gr.Column(min_width=280):
                gr.Markdown("### 1 · Garment", elem_classes="step-title")
                photo = gr.Image(type="filepath", label="Garment photo (one garment, plain background)",
                                 sources=["upload", "clipboard"], height=240, elem_id="photo")
                back_photo = gr.Image(type="filepath", label="Back (optional)", sources=["upload", "clipboard"],
                                      height=120, elem_id="back-photo")
                with gr.Row():
                    category = gr.Dropdown(values(Category), value="auto", label="Category", min_width=100)
                    quality = gr.Radio(values(Quality), value="low", label="Quality", min_width=100)
                model = gr.Dropdown(values(Model), value="auto", label="Model", info=licence_note("auto"),
                                    elem_id="model")
                generate_btn = gr.Button("Generate 3D", variant="primary", elem_id="generate")
                gen_status = gr.Markdown("Upload a photo or click an example below.", elem_id="gen-status")
                recategory = gr.Button(visible=False, size="sm", elem_id="recategory")  # when auto was unsure
                example_block = gr.Column()
                cutout = gr.Image(label="Cut-out", interactive=False, height=180, elem_id="cutout")
                with gr.Accordion("…or import a 3D garment (GLB, OBJ, PLY)", open=False):
                    mesh_file = gr.File(label="3D garment", file_types=[".glb", ".gltf", ".obj", ".ply"])
                    import_btn = gr.Button("Import")
            with gr.Column(min_width=280):
                gr.Markdown("### 2 · 3D garment", elem_classes="step-title")
                garment_view = gr.Model3D(label="3D garment", height=380, clear_color=VIEW_BG, elem_id="garment-view")
                garment_link = gr.Markdown("", elem_id="garment-link")
                with gr.Tabs():
                    with gr.Tab("Turntable"):
                        turntable = gr.Image(label="Turntable", interactive=False, height=200, show_label=False)
                    with gr.Tab("Downloads"):
                        garment_files = gr.File(label="GLB, Draco GLB, OBJ zip", file_count="multiple",
                                                elem_id="garment-files")
            with gr.Column(min_width=280):
                gr.Markdown("### 3 · Avatar and outfit", elem_classes="step-title")
                gallery = _tiles("Avatars", "avatars", columns=3, height=190)
                avatar_status = gr.Markdown("", elem_id="avatar-status")
                with gr.Accordion("Custom avatar from measurements", open=False, elem_id="custom-avatar"):
                    with gr.Row():
                        height_cm = _measure("height_cm", "Height (cm)", 170)
                        chest_cm = _measure("chest_cm", "Chest (cm)", 92)
                    with gr.Row():
                        waist_cm = _measure("waist_cm", "Waist (cm)", 76)
                        hips_cm = _measure("hips_cm", "Hips (cm)", 100)
                    gender = gr.Radio(values(Gender), value="female", label="Body")
                    build_btn = gr.Button("Build avatar", elem_id="build-avatar")
                outfit = gr.CheckboxGroup([], label="Outfit", elem_id="outfit",
                                          info="Garments you made; tick one per layer (top, bottom, outer)")
                with gr.Row():
                    ease_in = gr.Radio(values(Ease), value="regular", label="Fit", min_width=120)
                    tuck_box = gr.Checkbox(value=False, label="Tuck the top in", min_width=80)
                fit_btn = gr.Button("Fit", variant="primary", elem_id="fit")
            with gr.Column(min_width=280):
                gr.Markdown("### 4 · Dressed avatar", elem_classes="step-title")
                fit_status = gr.Markdown("", elem_id="fit-status")
                fitted_view = gr.Model3D(label="Dressed avatar", height=380, clear_color=VIEW_BG, elem_id="fitted-view")
                fit_link = gr.Markdown("", elem_id="fit-link")
                fit_report = gr.Markdown("", elem_id="fit-report")
                fitted_files = gr.File(label="Fitted outfit (GLB, Draco GLB)", file_count="multiple",
                                       elem_id="fitted-files")

        with gr.Row():
            recent_garments = _tiles("Your recent garments — click to reopen", "recent-garments")
            recent_fits = _tiles("Your recent fittings — click to reopen", "recent-fits")

        # -- presentation helpers (closures over the service) -----------------------------------
        def thumbs(entries: list[dict], caller: Caller) -> list[tuple[str, str]]:
            """History tiles: each one's thumbnail, else (its extras still coming, or no picture
            could be drawn) its cut-out or a blank tile."""
            tiles = []
            for e in entries:
                files = service.local_files(e["id"], caller=caller)
                tiles.append((str(files.get("thumb") or files.get("cutout") or pending_tile), e["label"]))
            return tiles

        def downloads(files: dict[str, Path]) -> list[str]:
            return [str(files[k]) for k in ("glb", "gltf", "obj") if k in files]

        def outfit_box(hist: list[dict], chosen: list[str] | None = None) -> gr.CheckboxGroup:
            garments = view.of_kind(hist, "garment")
            ids = {e["id"] for e in garments}
            return gr.CheckboxGroup(choices=[(e["label"], e["id"]) for e in garments],
                                    value=[g for g in chosen or [] if g in ids])

        def avatar_gallery(rows: list[dict], selected: str | None, caller: Caller) -> gr.Gallery:
            items = [(str(service.local_files(a["id"], caller=caller)["thumb"]), view.avatar_caption(a))
                     for a in rows]
            index = next((i for i, a in enumerate(rows) if a["id"] == selected), None)
            return gr.Gallery(value=items, selected_index=index)

        def show_garment(job_id: str, how: str, hist: list[dict], chosen: list[str], caller: Caller,
                         request: gr.Request | None) -> tuple:
            """A finished garment in step 2 at once, remembered in the history and put into the
            outfit; its extras, if still coming, follow (on_garment_extras)."""
            job = service.get_result(job_id, caller=caller)
            files = service.local_files(job_id, caller=caller)
            shown.show(request, "garment", job_id)
            hist = view.remember(hist, "garment", job_id, view.garment_label(job), job["category"])
            text = (f"**Done** in {job_seconds(job['timings']):.2f} s · {job['category']} · "
                    f"{job['stats'].get('faces', 0)} faces · {how}")
            chosen = view.with_garment(chosen, hist, job_id, job["category"])
            return (job_id, str(files["cutout"]) if "cutout" in files else None, str(files["glb"]), text,
                    downloads(files), str(files["turntable"]) if "turntable" in files else None, hist,
                    thumbs(view.of_kind(hist, "garment"), caller), outfit_box(hist, chosen),
                    view.link_line("garment", job["page_url"]))

        def extras_of(job_id: str | None, caller: Caller | None) -> dict | None:
            """The job once its extras are made or failed; None if they are late or it is gone (the
            page then keeps what it shows: nothing here is worth a message)."""
            try:
                job = wait_extras(service, job_id, caller) if job_id and caller else None
            except FitroomError:
                return None
            return job if job is not None and job["extras"] != "pending" else None

        def on_garment_extras(job_id: str | None, hist: list[dict], caller: Caller | None,
                              request: gr.Request) -> tuple:
            """The shown garment's turntable, OBJ zip and history tile, once made (if it is still shown)."""
            job = extras_of(job_id, caller)
            if job is None or not shown.still(request, "garment", job_id):
                return gr.skip(), gr.skip(), gr.skip()
            files = service.local_files(job_id, caller=caller)
            return (downloads(files), str(files["turntable"]) if "turntable" in files else None,
                    thumbs(view.of_kind(hist, "garment"), caller))

        def show_fit(job: dict, hist: list[dict], caller: Caller, request: gr.Request | None) -> tuple:
            """A finished fitting in step 4 at once; its thumbnail (its history tile) follows (on_fit_extras)."""
            files = service.local_files(job["id"], caller=caller)
            shown.show(request, "fitting", job["id"])
            hist = view.remember(hist, "fitting", job["id"], f"{len(job['layers'])} layer(s) · {job['id'][:8]}")
            text = f"**Done** in {job_seconds(job['timings']):.2f} s · {len(job['layers'])} garment(s)"
            return (str(files["fitted_glb"]), text, view.report_table(job["metrics"]),
                    [str(files["fitted_glb"]), str(files["fitted_gltf"])], hist,
                    thumbs(view.of_kind(hist, "fitting"), caller), view.link_line("fitting", job["page_url"]),
                    job["id"])

        def on_fit_extras(job_id: str | None, hist: list[dict], caller: Caller | None, request: gr.Request):
            """The shown fitting's history tile, once its thumbnail is made (if it is still shown)."""
            job = extras_of(job_id, caller)
            if job is None or not shown.still(request, "fitting", job_id):
                return gr.skip()
            return thumbs(view.of_kind(hist, "fitting"), caller)

        def with_extras(event, kind: str) -> None:
            """After an event that shows a garment or a fitting: its extras, quietly (no progress)."""
            if kind == "garment":
                event.success(on_garment_extras, [garment_id, history, me], [garment_files, turntable, recent_garments],
                              api_visibility="private", show_progress="hidden")
            else:
                event.success(on_fit_extras, [fitting_id, history, me], recent_fits, api_visibility="private",
                              show_progress="hidden")

        # -- step 1: photo → 3D garment ---------------------------------------------------------
        garment_outputs = [garment_id, cutout, garment_view, gen_status, garment_files, turntable, history,
                           recent_garments, outfit, garment_link]

        def generate(photo_path: str, category_v: str, quality_v: str, model_v: str, hist, chosen,
                     progress: gr.Progress, caller: Caller, request: gr.Request | None,
                     back_path: str | None = None) -> tuple:
            if not photo_path:
                raise refused("Upload a garment photo first, or click an example.")
            path = client_file(photo_path, uploads, settings.max_upload_bytes)
            with about(BACK_PHOTO):
                back = client_file(back_path, uploads, settings.max_upload_bytes) if back_path else None
            with path.open("rb") as fh, (back.open("rb") if back else nullcontext()) as back_fh:
                cloth = service.upload_image(fh, path.name, back_fh, caller=caller)
            job = service.generate_3d(cloth["id"], model_v, quality_v, category_v, caller=caller)
            job = wait(service, job["id"], GENERATE_STAGES, progress, settings.generate_timeout_s + 15, caller)
            if job["status"] == "error":
                raise refused(f"Generation failed: {job['log']}")
            return show_garment(job["id"], job["log"] or job["model_used"], hist, chosen, caller, request)

        def on_generate(photo_path, back_path, category_v, quality_v, model_v, hist, chosen, caller,
                        request: gr.Request, progress=gr.Progress()):
            try:
                return generate(photo_path, category_v, quality_v, model_v, hist, chosen, progress,
                                _verified(caller), request, back_path)
            except FitroomError as exc:
                raise refused(exc) from None

        def offer_other(job_id: str | None, caller) -> tuple:
            """When auto was unsure of the category: a button to make the garment again as the next one."""
            job = service.get_result(job_id, caller=_verified(caller)) if job_id else None
            other = view.other_category(job, SURE)
            if other is None:
                return gr.Button(visible=False), None
            return gr.Button(f"Not a {job['category']}? Make it a {other}", visible=True), other

        other = gr.State(None)
        model.change(lambda m: gr.Dropdown(info=licence_note(m)), model, model, api_visibility="private")
        generated = generate_btn.click(on_generate, [photo, back_photo, category, quality, model, history, outfit, me],
                                       garment_outputs, api_visibility="private", concurrency_limit=4)
        regenerated = recategory.click(lambda o: (o, gr.Button(visible=False)), other, [category, recategory],
                                       api_visibility="private").then(
            on_generate, [photo, back_photo, category, quality, model, history, outfit, me], garment_outputs,
            api_visibility="private", concurrency_limit=4)
        for event in (generated, regenerated):
            event.then(offer_other, [garment_id, me], [recategory, other], api_visibility="private")
            with_extras(event, "garment")

        def on_example(photo_path, category_v, hist, chosen, caller, request: gr.Request, progress=gr.Progress()):
            """An example is generated once per visitor and server process, then reopened at once.
            (Gradio's own example cache would replay the history and outfit of whoever clicked first.)"""
            try:
                caller = _verified(caller)
                path = client_file(photo_path, uploads, settings.max_upload_bytes)
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                if category_v == "auto":
                    category_v = example_category.get(digest, "auto")
                key = (digest, category_v, caller.user_id)
                job_id = example_jobs.get(key)
                if job_id and service.get_result(job_id, caller=caller)["status"] == "done":
                    return show_garment(job_id, "example, made earlier", hist, chosen, caller, request)
                out = generate(photo_path, category_v, "low", "auto", hist, chosen, progress, caller, request)
                example_jobs[key] = out[0]
                return out
            except FitroomError as exc:
                raise refused(exc) from None

        if EXAMPLES:
            with example_block:
                examples = gr.Examples([[str(p)] for p in EXAMPLES], inputs=[photo], examples_per_page=8,
                                       label="Examples — one click to a 3D garment (drawn for this project)",
                                       api_visibility="private")
            with_extras(examples.load_input_event.then(on_example, [photo, category, history, outfit, me],
                                                       garment_outputs, api_visibility="private",
                                                       concurrency_limit=4), "garment")

        def on_import(mesh_path, category_v, hist, chosen, caller, request: gr.Request):
            if not mesh_path:
                raise refused("Choose a 3D garment file first.")
            try:
                caller = _verified(caller)
                path = client_file(mesh_path, uploads, int(settings.max_import_mb * 2**20))
                with path.open("rb") as fh:
                    job = service.upload_garment_3d(fh, path.name, category_v, caller=caller)
                return show_garment(job["id"], f"imported · {job['log']}", hist, chosen, caller, request)
            except FitroomError as exc:
                raise refused(exc) from None

        with_extras(import_btn.click(on_import, [mesh_file, category, history, outfit, me], garment_outputs,
                                     api_visibility="private", concurrency_limit=4), "garment")

        def on_reopen_garment(hist, chosen, caller, evt: gr.SelectData, request: gr.Request):
            entry = view.of_kind(hist, "garment")[evt.index]
            try:
                return show_garment(entry["id"], "reopened from your history", hist, chosen, _verified(caller),
                                    request)
            except FitroomError as exc:
                raise refused(exc) from None

        with_extras(recent_garments.select(on_reopen_garment, [history, outfit, me], garment_outputs,
                                           api_visibility="private"), "garment")

        # -- step 3: avatar ---------------------------------------------------------------------
        def on_select_avatar(rows, evt: gr.SelectData):
            chosen = rows[evt.index]
            return chosen["id"], view.avatar_line(chosen)

        def bare_avatar(avatar: str | None, fitting: str | None, caller: Caller | None) -> tuple:
            """Step 4 before anything is fitted: the chosen avatar itself. Loading it also loads the
            3D viewer's code while the person picks a garment, so that their first garment shows at
            once (the viewer's first model otherwise waits ~1 s for that code)."""
            if fitting or not avatar or caller is None:
                return gr.skip(), gr.skip()
            try:
                glb = service.local_files(avatar, caller=caller)["glb"]
            except FitroomError:
                return gr.skip(), gr.skip()
            return str(glb), "Your avatar: make or pick a garment, tick it in the outfit, then **Fit**."

        bare = ([avatar_id, fitting_id, me], [fitted_view, fit_status])
        gallery.select(on_select_avatar, avatars, [avatar_id, avatar_status], api_visibility="private").then(
            bare_avatar, *bare, api_visibility="private", show_progress="hidden")

        def on_build_avatar(h, c, w, hp, g, caller, progress=gr.Progress()):
            caller = _verified(caller)
            try:
                job = service.create_avatar(h, c, w, hp, g, caller=caller)
                job = wait(service, job["id"], AVATAR_STAGES, progress, settings.generate_timeout_s + 15, caller)
            except FitroomError as exc:
                raise refused(exc) from None
            if job["status"] == "error":
                raise refused(f"The avatar could not be built: {job['log']}")
            rows = service.list_presets(caller)
            return rows, job["id"], avatar_gallery(rows, job["id"], caller), f"**{job['name']}** · {job['log']}"

        build_btn.click(on_build_avatar, [height_cm, chest_cm, waist_cm, hips_cm, gender, me],
                        [avatars, avatar_id, gallery, avatar_status], api_visibility="private",
                        concurrency_limit=2).success(bare_avatar, *bare, api_visibility="private",
                                                     show_progress="hidden")

        # -- step 4: fit ------------------------------------------------------------------------
        def on_fit(chosen, preset, ease_v, tuck_v, hist, caller, request: gr.Request, progress=gr.Progress()):
            caller = _verified(caller)
            if not chosen:
                raise refused("Make or pick a garment first: tick it under Outfit.")
            if not preset:
                raise refused("Pick an avatar in step 3.")
            try:
                job = service.fit(list(chosen), preset, ease=ease_v, tuck_in=bool(tuck_v), caller=caller)
                job = wait(service, job["id"], FIT_STAGES, progress, settings.fit_timeout_s + 15, caller)
            except FitroomError as exc:
                raise refused(exc) from None
            if job["status"] == "error":
                raise refused(f"Fitting failed: {job['log']}")
            return show_fit(job, hist, caller, request)

        fit_outputs = [fitted_view, fit_status, fit_report, fitted_files, history, recent_fits, fit_link, fitting_id]
        with_extras(fit_btn.click(on_fit, [outfit, avatar_id, ease_in, tuck_box, history, me], fit_outputs,
                                  api_visibility="private", concurrency_limit=4), "fitting")

        def on_reopen_fit(hist, caller, evt: gr.SelectData, request: gr.Request):
            try:
                caller = _verified(caller)
                job = service.get_result(view.of_kind(hist, "fitting")[evt.index]["id"], caller=caller)
                return show_fit(job, hist, caller, request)
            except FitroomError as exc:
                raise refused(exc) from None

        with_extras(recent_fits.select(on_reopen_fit, [history, me], fit_outputs, api_visibility="private"),
                    "fitting")

        # -- page load: who this is, their recent rows, the avatars ------------------------------
        def on_load(sealed, request: gr.Request):
            client = request.client.host if request.client else None
            username = getattr(request, "username", None)  # a Hugging Face login on a Space
            try:
                if username:
                    caller = service.identity.for_login(username, client)
                    token = service.identity.token_for(caller.user_id)
                elif (token := service.identity.unseal(sealed)) and (user_id := service.identity.verify(token)):
                    caller = Caller(user_id, client)
                else:  # a first visit (or a token we did not sign): a new anonymous visitor
                    issued = service.new_token(client)
                    token, caller = issued["token"], Caller(issued["user_id"], client)
            except FitroomError as exc:
                raise refused(exc) from None
            caller = caller.at(base_url(request.request))
            entries = [("garment", g["id"], view.garment_label(g), g["category"])
                       for g in service.list_garments(caller, view.MAX_HISTORY) if g["status"] == "done"]
            entries += [("fitting", f["id"], f"{len(f['layers'])} layer(s) · {f['id'][:8]}", None)
                        for f in service.list_fittings(caller, view.MAX_HISTORY) if f["status"] == "done"]
            hist: list[dict] = []
            for kind, job_id, label, cat in reversed(entries):  # oldest first, so the newest ends first
                hist = view.remember(hist, kind, job_id, label, cat)
            rows = service.list_presets(caller)
            first = rows[0]["id"] if rows else None
            return (service.identity.seal(token), caller, hist, thumbs(view.of_kind(hist, "garment"), caller),
                    thumbs(view.of_kind(hist, "fitting"), caller), outfit_box(hist), rows, first,
                    avatar_gallery(rows, first, caller), view.avatar_line(rows[0]) if rows else "No avatars yet.")

        # -- a permalink (/?garment=<id>, /?fitting=<id>) opens its record, for its owner only ------
        def linked(request: gr.Request, kind: type[Cloth3D] | type[FittingSession], caller) -> dict | None:
            """The finished record a page's link names, if it names one (another user's is a 404)."""
            job_id = request.query_params.get("garment" if kind is Cloth3D else "fitting") if request else None
            if not job_id:
                return None
            job = service.get_result(job_id, kind, caller=_verified(caller))
            if job["status"] != "done":
                raise refused(f"This link's record is {job['status']}: {job['log'] or 'not finished yet'}.")
            return job

        def on_garment_link(hist, chosen, caller, request: gr.Request):
            try:
                if (job := linked(request, Cloth3D, caller)) is None:
                    return tuple(gr.skip() for _ in garment_outputs)
                return show_garment(job["id"], "opened from its link", hist, chosen, caller, request)
            except FitroomError as exc:
                raise refused(exc) from None

        def on_fit_link(hist, caller, request: gr.Request):
            try:
                if (job := linked(request, FittingSession, caller)) is None:
                    return tuple(gr.skip() for _ in fit_outputs)
                return show_fit(job, hist, caller, request)
            except FitroomError as exc:
                raise refused(exc) from None

        linked_garment = blocks.load(on_load, token_box,
                                     [token_box, me, history, recent_garments, recent_fits, outfit, avatars, avatar_id,
                                      gallery, avatar_status], api_visibility="private").then(
            on_garment_link, [history, outfit, me], garment_outputs, api_visibility="private")
        with_extras(linked_garment, "garment")
        linked_fit = linked_garment.then(on_fit_link, [history, me], fit_outputs, api_visibility="private")
        with_extras(linked_fit, "fitting")
        linked_fit.then(bare_avatar, *bare, api_visibility="private", show_progress="hidden")

        public_api(service)
    return blocks

