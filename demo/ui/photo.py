"""Step 1 · Garment: a photo (and optionally its back), an example, or an imported 3D file in;
its 3D garment out (shown in step 2, added to the history and the outfit)."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING

import gradio as gr

from core.ai.reconstructors import licence_note
from core.choices import Category, Model, Quality, values
from core.garment.registry import SURE
from core.identity import Caller
from core.service import FitroomService
from demo.gradio_files import client_file, upload_folder
from demo.ui import view
from demo.ui.calls import garment_done, upload_photo
from demo.ui.errors import handled, refused
from demo.ui.results import Results, in_two
from demo.ui.state import verified

if TYPE_CHECKING:  # wire's annotation only: the page imports this module
    from demo.ui.page import Page

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "assets" / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.png"))
EXAMPLE_CATEGORIES = json.loads((EXAMPLES_DIR / "categories.json").read_text()) if EXAMPLES else {}
STAGED_MAX = 1024  # photos uploaded on being picked, kept for their Generate click (the oldest forgotten)


class PhotoStep:
    """Step 1's column and its handlers. An example is generated once per visitor and server
    process, then reopened at once (Gradio's own example cache would replay the history and outfit
    of whoever clicked first)."""

    def __init__(self, service: FitroomService, results: Results) -> None:
        self.service, self.results, self.settings = service, results, service.ctx.settings
        self.uploads = (upload_folder(self.settings), EXAMPLES_DIR)  # the only files a page event may name
        self.example_jobs: dict[tuple, str] = {}  # example photo (hash, category, user) → its finished garment
        self.staged: OrderedDict[tuple, str] = OrderedDict()  # (user, photo, back) → its Cloth, uploaded when picked
        self.example_category = {hashlib.sha256(p.read_bytes()).hexdigest(): EXAMPLE_CATEGORIES.get(p.name, "auto")
                                 for p in EXAMPLES}
        gr.Markdown("### 1 · Garment", elem_classes="step-title")
        self.photo = gr.Image(type="filepath", label="Garment photo (one garment, plain background)",
                              sources=["upload", "clipboard"], height=240, elem_id="photo")
        self.back_photo = gr.Image(type="filepath", label="Back (optional)", sources=["upload", "clipboard"],
                                   height=120, elem_id="back-photo")
        with gr.Row():
            self.category = gr.Dropdown(values(Category), value="auto", label="Category", min_width=100)
            self.quality = gr.Radio(values(Quality), value="low", label="Quality", min_width=100)
        self.model = gr.Dropdown(values(Model), value="auto", label="Model", info=licence_note("auto"),
                                 elem_id="model")
        self.generate_btn = gr.Button("Generate 3D", variant="primary", elem_id="generate", interactive=False)
        self.status = gr.Markdown("Upload a photo or click an example below.", elem_id="gen-status")
        self.recategory = gr.Button(visible=False, size="sm", elem_id="recategory")  # when auto was unsure
        self.example_block = gr.Column()
        self.cutout = gr.Image(label="Cut-out", interactive=False, height=180, elem_id="cutout")
        with gr.Accordion("…or import a 3D garment (GLB, OBJ, PLY)", open=False):
            self.mesh_file = gr.File(label="3D garment", file_types=[".glb", ".gltf", ".obj", ".ply"])
            self.import_btn = gr.Button("Import", interactive=False)

    def wire(self, page: Page) -> None:
        """Generate, make again as another category, the examples, import: each shows a garment, then its extras."""
        state, outputs, outfit = page.state, page.garment_outputs, page.avatar.outfit  # a new garment joins the outfit
        generate_in = [self.photo, self.back_photo, self.category, self.quality, self.model, state.history,
                       outfit, state.me]
        self.model.change(handled(lambda m: gr.Dropdown(info=licence_note(m))), self.model, self.model,
                          api_visibility="private")
        for picked in (self.photo, self.back_photo):  # the upload is done before Generate is clicked
            picked.upload(self.on_picked, [self.photo, self.back_photo, state.me], None, api_visibility="private",
                          show_progress="hidden", concurrency_limit=4)
        offered = [*outputs, self.recategory, state.other]  # the garment, and the other category it may be
        clicked = self.generate_btn.click(self.on_generate, generate_in, offered, api_visibility="private",
                                          concurrency_limit=4, show_progress_on=page.garment_progress)
        regenerated = self.recategory.click(handled(lambda o: (o, gr.Button(visible=False))), state.other,
                                            [self.category, self.recategory], api_visibility="private").then(
            self.on_generate, generate_in, offered, api_visibility="private", concurrency_limit=4,
            show_progress_on=page.garment_progress)
        for event in (clicked, regenerated):
            page.with_extras(event, "garment")
        if EXAMPLES:
            with self.example_block:
                examples = gr.Examples([[str(p)] for p in EXAMPLES], inputs=[self.photo], examples_per_page=8,
                                       label="Examples — one click to a 3D garment (drawn for this project)",
                                       api_visibility="private")
            page.with_extras(examples.load_input_event.then(
                self.on_example, [self.photo, self.category, state.history, outfit, state.me],
                outputs, api_visibility="private", concurrency_limit=4, show_progress_on=page.garment_progress),
                "garment")
        page.with_extras(self.import_btn.click(
            self.on_import, [self.mesh_file, self.category, state.history, outfit, state.me],
            outputs, api_visibility="private", concurrency_limit=4, show_progress_on=page.garment_progress), "garment")

    def generate(self, photo_path: str, category_v: str, quality_v: str, model_v: str, hist, chosen,
                 progress: gr.Progress, caller: Caller, request: gr.Request | None,
                 back_path: str | None = None, extra: int = 0) -> Generator[tuple, None, tuple]:
        """Upload the photo (and its back) and generate its 3D garment: yields the update that asks
        for its model as the job starts (`extra`: outputs after the garment's), returns the
        finished garment's outputs."""
        if not photo_path:
            raise refused("Upload a garment photo first, or click an example.")
        cloth_id = self.staged.get((caller.user_id, photo_path, back_path))
        if cloth_id is None:  # clicked before its upload on being picked was done (or an example)
            cloth_id = self.stage(photo_path, back_path, caller)
        job = self.service.generate_3d(cloth_id, model_v, quality_v, category_v, caller=caller)
        asked = self.results.asked("garment", job["id"], caller, extra)
        if asked:
            yield asked
        job = garment_done(self.service, job["id"], caller, progress, every=None)
        return self.results.garment(job["id"], job["log"] or job["model_used"], hist, chosen, caller, request,
                                    asked=asked is not None)

    def stage(self, photo_path: str, back_path: str | None, caller: Caller) -> str:
        """Upload the photo (and its back) as a Cloth, kept for the Generate clicks on it."""
        cloth = upload_photo(self.service, self.uploads, photo_path, back_path, caller)
        self.staged[(caller.user_id, photo_path, back_path)] = cloth["id"]
        while len(self.staged) > STAGED_MAX:
            self.staged.popitem(last=False)
        return cloth["id"]

    @handled
    def on_picked(self, photo_path, back_path, caller) -> None:
        """A photo (or its back) picked: uploaded at once, while the person chooses the category and
        moves to Generate, so that the click waits for the job alone; a refused photo is told now."""
        if photo_path:
            self.stage(photo_path, back_path, verified(caller))

    @handled
    def on_generate(self, photo_path, back_path, category_v, quality_v, model_v, hist, chosen, caller,
                    request: gr.Request, progress=gr.Progress()):
        """Generate 3D, and its again-as-another-category button in the same update (an event of its
        own after it was one more round trip while the viewer drew the garment)."""
        caller = verified(caller)
        shown = yield from self.generate(photo_path, category_v, quality_v, model_v, hist, chosen, progress, caller,
                                         request, back_path, extra=2)
        first, rest = in_two(shown, "garment")
        yield *first, gr.skip(), gr.skip()
        yield *rest, *self.offer_other(self.service.get_result(shown[0], caller=caller))

    @staticmethod
    def offer_other(job: dict) -> tuple:
        """When auto was unsure of the category: a button to make the garment again as the next one."""
        other = view.other_category(job, SURE)
        if other is None:
            return gr.Button(visible=False), None
        return gr.Button(f"Not a {job['category']}? Make it a {other}", visible=True), other

    @handled
    def on_example(self, photo_path, category_v, hist, chosen, caller, request: gr.Request, progress=gr.Progress()):
        """An example photo's garment: made for this visitor the first time, reopened after."""
        caller = verified(caller)
        path = client_file(photo_path, self.uploads, self.settings.max_upload_bytes)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if category_v == "auto":
            category_v = self.example_category.get(digest, "auto")
        key = (digest, category_v, caller.user_id)
        job_id = self.example_jobs.get(key)
        if job_id and self.service.get_result(job_id, caller=caller)["status"] == "done":
            shown = self.results.garment(job_id, "example, made earlier", hist, chosen, caller, request)
        else:
            shown = yield from self.generate(photo_path, category_v, "low", "auto", hist, chosen, progress, caller,
                                             request)
            self.example_jobs[key] = shown[0]
        yield from in_two(shown, "garment")

    @handled
    def on_import(self, mesh_path, category_v, hist, chosen, caller, request: gr.Request):
        """A 3D file in: imported in the request (no job to wait for), then shown like a generated garment."""
        if not mesh_path:
            raise refused("Choose a 3D garment file first.")
        caller = verified(caller)
        path = client_file(mesh_path, self.uploads, int(self.settings.max_import_mb * 2**20))
        with path.open("rb") as fh:
            job = self.service.upload_garment_3d(fh, path.name, category_v, caller=caller)
        yield from in_two(self.results.garment(job["id"], f"imported · {job['log']}", hist, chosen, caller, request),
                          "garment")
