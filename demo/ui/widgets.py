"""The components more than one step makes the same way."""

from __future__ import annotations

import gradio as gr

from demo.ui.viewer3d import GlbView


def viewer(label: str, elem_id: str) -> GlbView:
    """A 3D view (steps 2 and 4), on the page's light background."""
    return GlbView(title=label, elem_id=elem_id)


def tiles(label: str, elem_id: str, columns: int = 6, height: int = 170) -> gr.Gallery:
    """A row of clickable thumbnails (a click picks, it does not open a preview)."""
    return gr.Gallery(label=label, columns=columns, height=height, allow_preview=False, preview=False,
                      fit_columns=False, elem_id=elem_id)
