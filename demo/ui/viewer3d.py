"""The page's 3D view of a GLB: our three.js viewer (demo/static/viewer/view3d.js, which says why
not Gradio's Model3D) in a gr.HTML component. Its value is a GLB's path on the server (the page
gets a Gradio file URL for it, as Model3D's would), or a ModelUrl the app serves itself."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import gradio as gr

VIEWER_DIR = Path(__file__).resolve().parents[1] / "static" / "viewer"  # served at /viewer (demo/server.py)
VIEWER_ROUTE = "/viewer"
TEMPLATE = '<div class="fr3d"><span class="fr3d-label">${title}</span><div class="fr3d-box"></div></div>'
CSS = """
.fr3d { position: relative; height: ${height}px; border-radius: var(--block-radius); overflow: hidden; }
.fr3d-box, .fr3d-canvas { width: 100%; height: 100%; display: block; }
.fr3d-canvas { touch-action: none; }
.fr3d-label { position: absolute; top: 0; left: 0; z-index: 1; padding: 2px 8px;
              font-size: var(--block-label-text-size); color: var(--block-label-text-color);
              background: var(--block-label-background-fill);
              border-bottom-right-radius: var(--block-label-radius); pointer-events: none; }
"""
# Relative to the page, so that it works under a proxy's path prefix as well as at /.
LOAD = ("import(new URL('viewer/view3d.js', document.baseURI).href)"
        ".then((viewer) => viewer.mount(element, props, watch))"
        ".catch((error) => { element.dataset.error = String(error); console.error(error); });")


class ModelUrl(str):
    """A model's URL from the app's root (the service's `model_url`: a job's model, asked for as
    the job starts and answered once it is made), given to the page as it is."""


class GlbView(gr.HTML):
    """A GLB shown in 3D, framed from the front, turned by dragging; `element.dataset.shown` holds
    the URL of the model drawn (the browser tests and benchmarks/latency.py wait on it)."""

    def __init__(self, value: str | Path | None = None, *, title: str = "", height: int = 380,
                 background: str = "#f5f5f7", **kwargs) -> None:
        # Gradio also rebuilds a component from its config (with every HTML keyword): those win.
        ours = dict(html_template=TEMPLATE, css_template=CSS, js_on_load=LOAD, apply_default_css=False,
                    container=True, padding=False)
        super().__init__(value, **(ours | kwargs), title=title, height=height, background=background)

    def postprocess(self, value: str | Path | None) -> str:
        """A GLB's path → the URL the page fetches it from (its copy in Gradio's cache, as every
        file Gradio serves); a ModelUrl made relative to the page (which may be under a prefix)."""
        if not value:
            return ""
        if isinstance(value, ModelUrl):
            return value.removeprefix("/")
        cached = self.move_resource_to_block_cache(value)
        return f"gradio_api/file={quote(str(cached))}"

    def api_info(self) -> dict:
        return {"type": "string", "description": "URL of the GLB shown, relative to the page"}
