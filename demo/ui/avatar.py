"""Step 3 · Avatar and outfit: a preset or a custom avatar built from measurements, the garments
to wear and how; its Fit button is wired by step 4, which shows the result."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from core.avatars.custom import LIMITS
from core.choices import Ease, Gender, values
from core.service import FitroomService
from core.tasks import AVATAR_STAGES
from demo.ui import view
from demo.ui.errors import handled
from demo.ui.progress import wait
from demo.ui.results import Results
from demo.ui.state import verified
from demo.ui.widgets import tiles

if TYPE_CHECKING:  # wire's annotation only: the page imports this module
    from demo.ui.page import Page


def measure(name: str, label: str, value: float) -> gr.Number:
    """A measurement field bounded by the core's own limits, as the service checks them."""
    low, high = LIMITS[name]
    return gr.Number(value, label=label, minimum=low, maximum=high, min_width=80)


class AvatarStep:
    """Step 3's column and its handlers."""

    def __init__(self, service: FitroomService, results: Results) -> None:
        self.service, self.results = service, results
        gr.Markdown("### 3 · Avatar and outfit", elem_classes="step-title")
        self.gallery = tiles("Avatars", "avatars", columns=3, height=190)
        self.status = gr.Markdown("", elem_id="avatar-status")
        with gr.Accordion("Custom avatar from measurements", open=False, elem_id="custom-avatar"):
            with gr.Row():
                self.height_cm = measure("height_cm", "Height (cm)", 170)
                self.chest_cm = measure("chest_cm", "Chest (cm)", 92)
            with gr.Row():
                self.waist_cm = measure("waist_cm", "Waist (cm)", 76)
                self.hips_cm = measure("hips_cm", "Hips (cm)", 100)
            self.gender = gr.Radio(values(Gender), value="female", label="Body")
            self.build_btn = gr.Button("Build avatar", elem_id="build-avatar", interactive=False)
        self.outfit = gr.CheckboxGroup([], label="Outfit", elem_id="outfit",
                                       info="Garments you made; tick one per layer (top, bottom, outer)")
        with gr.Row():
            self.ease = gr.Radio(values(Ease), value="regular", label="Fit", min_width=120)
            self.tuck = gr.Checkbox(value=False, label="Tuck the top in", min_width=80)
        self.fit_btn = gr.Button("Fit", variant="primary", elem_id="fit", interactive=False)

    def wire(self, page: Page) -> None:
        """Picking or building an avatar; step 4 then shows it bare."""
        state = page.state
        page.show_bare_avatar(self.gallery.select(self.on_select_avatar, state.avatars,
                                                  [state.avatar_id, self.status], api_visibility="private").then)
        body = [self.height_cm, self.chest_cm, self.waist_cm, self.hips_cm, self.gender]
        built = self.build_btn.click(self.on_build_avatar, [*body, state.me],
                                     [state.avatars, state.avatar_id, self.gallery, self.status],
                                     api_visibility="private", concurrency_limit=2, show_progress_on=self.gallery)
        page.show_bare_avatar(built.success)

    @handled
    def on_select_avatar(self, rows, evt: gr.SelectData):
        """A gallery tile picked: its avatar, in full under the gallery."""
        chosen = rows[evt.index]
        return chosen["id"], view.avatar_line(chosen)

    @handled
    def on_build_avatar(self, h, c, w, hp, g, caller, progress=gr.Progress()):
        """A custom avatar from the measurements: built by a job, then picked in the gallery."""
        caller = verified(caller)
        job = self.service.create_avatar(h, c, w, hp, g, caller=caller)
        job = wait(self.service, job["id"], AVATAR_STAGES, progress, self.service.ctx.settings.generate_timeout_s + 15,
                   caller, failed="The avatar could not be built", every=None)
        rows = self.service.list_presets(caller)
        gallery = self.results.avatar_gallery(rows, job["id"], caller)
        return rows, job["id"], gallery, f"**{job['name']}** · {job['log']}"
