"""Step 4 · Dressed avatar: the fitting of step 3's outfit on its avatar, its report, permalink
and files; before anything is fitted, the chosen avatar alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from core.errors import FitroomError
from core.identity import Caller
from core.service import FitroomService
from demo.ui import view
from demo.ui.calls import fitting_done
from demo.ui.errors import handled, refused
from demo.ui.results import Results, in_two
from demo.ui.state import verified
from demo.ui.widgets import viewer

if TYPE_CHECKING:  # wire's annotation only: the page imports this module
    from demo.ui.page import Page


class FittingStep:
    """Step 4's column and its handlers."""

    def __init__(self, service: FitroomService, results: Results) -> None:
        self.service, self.results = service, results
        gr.Markdown("### 4 · Dressed avatar", elem_classes="step-title")
        self.status = gr.Markdown("", elem_id="fit-status")
        self.view = viewer("Dressed avatar", "fitted-view")
        self.link = gr.Markdown("", elem_id="fit-link")
        self.report = gr.Markdown("", elem_id="fit-report")
        self.files = gr.File(label="Fitted outfit (GLB, Draco GLB)", file_count="multiple", elem_id="fitted-files")

    def wire(self, page: Page) -> None:
        """Step 3's Fit button, and the history tile that reopens a fitting here."""
        avatar, state = page.avatar, page.state
        fit_in = [avatar.outfit, state.avatar_id, avatar.ease, avatar.tuck, state.history, state.me]
        page.with_extras(avatar.fit_btn.click(self.on_fit, fit_in, page.fit_outputs, api_visibility="private",
                                              concurrency_limit=4, show_progress_on=page.fit_progress), "fitting")
        page.with_extras(page.history.fits.select(self.on_reopen_fit, [state.history, state.me], page.fit_outputs,
                                                  api_visibility="private", show_progress_on=page.fit_progress),
                         "fitting")

    @handled
    def on_fit(self, chosen, preset, ease_v, tuck_v, hist, caller, request: gr.Request, progress=gr.Progress()):
        """Fit the ticked outfit on the picked avatar: a job, waited for with its stages as progress."""
        caller = verified(caller)
        if not chosen:
            raise refused("Make or pick a garment first: tick it under Outfit.")
        if not preset:
            raise refused("Pick an avatar in step 3.")
        job = self.service.fit(list(chosen), preset, ease_v, bool(tuck_v), caller=caller)
        asked = self.results.asked("fitting", job["id"], caller)
        if asked:  # the dressed avatar asked for as the job starts
            yield asked
        job = fitting_done(self.service, job["id"], caller, progress, every=None)
        yield from in_two(self.results.fitting(job, hist, caller, request, asked=asked is not None), "fitting")

    @handled
    def on_reopen_fit(self, hist, caller, evt: gr.SelectData, request: gr.Request):
        """A history tile clicked: its fitting, fetched for this caller, shown again."""
        caller = verified(caller)
        job = self.service.get_result(view.of_kind(hist, "fitting")[evt.index]["id"], caller=caller)
        return self.results.fitting(job, hist, caller, request)

    @handled
    def bare_avatar(self, avatar: str | None, fitting: str | None, caller: Caller | None) -> tuple:
        """Step 4 before anything is fitted: the chosen avatar itself. Loading it also loads the
        3D viewer's code while the person picks a garment, so that their first garment shows at
        once (the viewer's first model otherwise waits ~1 s for that code)."""
        if fitting or not avatar or caller is None:
            return gr.skip(), gr.skip()
        try:
            glb = self.service.local_files(avatar, caller=caller)["glb"]
        except FitroomError:
            return gr.skip(), gr.skip()
        return str(glb), "Your avatar: make or pick a garment, tick it in the outfit, then **Fit**."
