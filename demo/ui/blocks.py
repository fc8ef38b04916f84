"""The fitting-room page (Gradio Blocks): a guided flow over core.service, in four steps side by
side — 1 garment (photo.py), 2 the 3D garment (garment.py), 3 avatar and outfit (avatar.py), 4 the
dressed avatar (fitting.py) — and the person's recent garments and fittings (history.py). Each
step builds its own components and handlers; the session's state is state.py's, what a finished
job shows is results.py's, the load and permalinks are session.py's. This module only puts them
together; the public API is in api.py."""

from __future__ import annotations

import gradio as gr

from core.service import FitroomService
from demo.ui.api import public_api
from demo.ui.avatar import AvatarStep
from demo.ui.fitting import FittingStep
from demo.ui.garment import GarmentStep
from demo.ui.history import HistoryStep
from demo.ui.page import Page
from demo.ui.photo import EXAMPLES_DIR, PhotoStep
from demo.ui.results import Results
from demo.ui.session import Session
from demo.ui.state import PageState

__all__ = ["CSS", "EXAMPLES_DIR", "build_ui"]  # what the server mounts the page with

CSS = """
.step-title h3 { margin: 0 0 .25rem 0; }
#fit-report table { font-size: .8rem; }
#fit-report th, #fit-report td { padding: 4px 6px; word-break: normal; overflow-wrap: normal; hyphens: none; }
"""


def build_ui(service: FitroomService) -> gr.Blocks:
    """The page and, on hidden components, the public API: the steps laid out side by side, then
    their events wired (each step's, the page's load) in the order Gradio numbers them."""
    results = Results(service)
    # Gradio keeps a copy of every file sent to the page (refused ones too): drop them after an hour.
    with gr.Blocks(title="Fitroom 3D", analytics_enabled=False, fill_width=True,
                   delete_cache=(3600, 3600)) as blocks:
        gr.Markdown("# Fitroom 3D\nOne garment photo in, a 3D garment out, dressed on an avatar — "
                    "**1** pick a garment · **2** look at it in 3D · **3** choose an avatar and the outfit · "
                    "**4** see it worn.")
        state = PageState()
        with gr.Row(equal_height=False):
            with gr.Column(min_width=280):
                photo = PhotoStep(service, results)
            with gr.Column(min_width=280):
                garment = GarmentStep(service, results)
            with gr.Column(min_width=280):
                avatar = AvatarStep(service, results)
            with gr.Column(min_width=280):
                fitting = FittingStep(service, results)
        page = Page(state, results, photo, garment, avatar, fitting, HistoryStep())
        for step in (photo, garment, avatar, fitting):
            step.wire(page)
        Session(service, results).wire(page, blocks)
        public_api(service)
    return blocks
