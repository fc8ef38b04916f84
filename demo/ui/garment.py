"""Step 2 · 3D garment: the garment step 1 made or a history tile reopened, its permalink, its
turntable and its downloads (Results.garment fills them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from core.service import FitroomService
from demo.ui import view
from demo.ui.errors import handled
from demo.ui.results import Results
from demo.ui.state import verified
from demo.ui.widgets import viewer

if TYPE_CHECKING:  # wire's annotation only: the page imports this module
    from demo.ui.page import Page


class GarmentStep:
    """Step 2's column, and the history tile that reopens a garment in it."""

    def __init__(self, service: FitroomService, results: Results) -> None:
        self.service, self.results = service, results
        gr.Markdown("### 2 · 3D garment", elem_classes="step-title")
        self.view = viewer("3D garment", "garment-view")
        self.link = gr.Markdown("", elem_id="garment-link")
        with gr.Tabs():
            with gr.Tab("Turntable"):
                self.turntable = gr.Image(label="Turntable", interactive=False, height=200, show_label=False)
            with gr.Tab("Downloads"):
                self.files = gr.File(label="GLB, Draco GLB, OBJ zip", file_count="multiple", elem_id="garment-files")

    def wire(self, page: Page) -> None:
        """The history's garment tiles reopen here."""
        state = page.state
        page.with_extras(page.history.garments.select(self.on_reopen_garment,
                                                      [state.history, page.avatar.outfit, state.me],
                                                      page.garment_outputs, api_visibility="private",
                                                      show_progress_on=page.garment_progress), "garment")

    @handled
    def on_reopen_garment(self, hist, chosen, caller, evt: gr.SelectData, request: gr.Request):
        """A history tile clicked: its garment shown again and put into the outfit."""
        entry = view.of_kind(hist, "garment")[evt.index]
        return self.results.garment(entry["id"], "reopened from your history", hist, chosen, verified(caller), request)
