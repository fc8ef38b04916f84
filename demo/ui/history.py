"""The person's recent garments and fittings, under the steps; a tile reopens its record in step 2
or 4 (wired there)."""

from __future__ import annotations

import gradio as gr

from demo.ui.widgets import tiles


class HistoryStep:
    """The history row: the tiles Results.thumbs fills."""

    def __init__(self) -> None:
        with gr.Row():
            self.garments = tiles("Your recent garments — click to reopen", "recent-garments")
            self.fits = tiles("Your recent fittings — click to reopen", "recent-fits")
