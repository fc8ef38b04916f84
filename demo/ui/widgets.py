"""The components more than one step makes the same way."""

from __future__ import annotations

import gradio as gr

VIEW_BG = (0.96, 0.96, 0.97, 1)


def viewer(label: str, elem_id: str) -> gr.Model3D:
    """A 3D view (steps 2 and 4), on the page's light background."""
    return gr.Model3D(label=label, height=380, clear_color=VIEW_BG, elem_id=elem_id)


def tiles(label: str, elem_id: str, columns: int = 6, height: int = 170) -> gr.Gallery:
    """A row of clickable thumbnails (a click picks, it does not open a preview)."""
    return gr.Gallery(label=label, columns=columns, height=height, allow_preview=False, preview=False,
                      fit_columns=False, elem_id=elem_id)
