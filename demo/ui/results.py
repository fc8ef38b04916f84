"""What a finished garment or fitting puts on the page (step 2 or 4, the history tiles, the
outfit) as the values of its outputs, and its extras (thumbnail, OBJ zip, turntable), which follow
it by a quiet event once the worker has made them."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
from PIL import Image

from core.errors import FitroomError
from core.file_urls import WAIT_MAX_S
from core.identity import Caller
from core.pipeline import job_seconds
from core.service import FitroomService
from demo.ui import view
from demo.ui.calls import wait_limit_s
from demo.ui.errors import handled
from demo.ui.progress import wait_extras
from demo.ui.state import Shown
from demo.ui.viewer3d import ModelUrl


def pending_tile(folder: Path) -> Path:
    """The tile a history entry shows until its thumbnail, one of its extras, is made."""
    path = folder / "pending-tile.png"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (64, 64), (236, 236, 240)).save(path)
    return path


def downloads(files: dict[str, Path]) -> list[str]:
    """A garment's files to download, those it has so far (the OBJ zip is an extra)."""
    return [str(files[k]) for k in ("glb", "gltf", "obj") if k in files]


def outfit_box(hist: list[dict], chosen: list[str] | None = None) -> gr.CheckboxGroup:
    """The outfit's choices: the garments in the history, keeping those still ticked."""
    garments = view.of_kind(hist, "garment")
    ids = {e["id"] for e in garments}
    return gr.CheckboxGroup(choices=[(e["label"], e["id"]) for e in garments],
                            value=[g for g in chosen or [] if g in ids])


# Where each kind's viewer and status line are in its outputs (Page.garment_outputs, fit_outputs),
# and how many those are.
AT_ONCE = {"garment": (2, 3), "fitting": (0, 1)}
OUTPUTS = {"garment": 10, "fitting": 8}


def in_two(shown: tuple, kind: str) -> tuple[tuple, tuple]:
    """A finished job's outputs as two updates: its viewer and status line first, alone, then the
    rest. The page starts fetching the model as soon as the first arrives, instead of after it has
    redrawn all ten outputs (on a slow machine a tenth of a second or more)."""
    first = tuple(value if i in AT_ONCE[kind] else gr.skip() for i, value in enumerate(shown))
    rest = tuple(gr.skip() if i in AT_ONCE[kind] else value for i, value in enumerate(shown))
    return first, rest


VIEWER = {kind: at_once[0] for kind, at_once in AT_ONCE.items()}


class Results:
    """The service's records as the page shows them, for one page (its Shown sessions)."""

    def __init__(self, service: FitroomService) -> None:
        self.service = service
        self.shown = Shown()
        self.pending_tile = pending_tile(service.ctx.settings.cache_dir)

    def thumbs(self, entries: list[dict], caller: Caller) -> list[tuple[str, str]]:
        """History tiles: each one's thumbnail, else (its extras still coming, or no picture
        could be drawn) its cut-out or a blank tile."""
        tiles = []
        for e in entries:
            files = self.service.local_files(e["id"], caller=caller)
            tiles.append((str(files.get("thumb") or files.get("cutout") or self.pending_tile), e["label"]))
        return tiles

    def avatar_gallery(self, rows: list[dict], selected: str | None, caller: Caller) -> gr.Gallery:
        """The avatars' tiles, the selected one highlighted."""
        items = [(str(self.service.local_files(a["id"], caller=caller)["thumb"]), view.avatar_caption(a))
                 for a in rows]
        index = next((i for i, a in enumerate(rows) if a["id"] == selected), None)
        return gr.Gallery(value=items, selected_index=index)

    def asked(self, kind: str, job_id: str, caller: Caller, extra: int = 0) -> tuple | None:
        """A job's model asked for as the job starts: an update (of its kind's outputs and `extra`
        more) of its viewer alone, to a URL the app answers the moment the model is written (as
        long as the page waits for the job), so that the page does not
        wait for the job's end to reach it, then for its update, then for the fetch. None where the
        storage cannot hold a request (S3: the finished job's update then brings the model)."""
        wait_s = min(int(wait_limit_s(self.service.ctx.settings, kind)), WAIT_MAX_S)
        url = self.service.model_url(job_id, caller=caller, wait_s=wait_s)
        if url is None:
            return None
        return tuple(ModelUrl(url) if i == VIEWER[kind] else gr.skip() for i in range(OUTPUTS[kind] + extra))

    def model(self, job_id: str, path: Path, caller: Caller, asked: bool) -> str:
        """The viewer's value for a finished job: its model's URL if the page asked for it as the
        job started (the same model, which the viewer does not load again), else its file."""
        return ModelUrl(self.service.model_url(job_id, caller=caller)) if asked else str(path)

    def garment(self, job_id: str, how: str, hist: list[dict], chosen: list[str], caller: Caller,
                request: gr.Request | None, asked: bool = False) -> tuple:
        """A finished garment in step 2 at once, remembered in the history and put into the
        outfit (the page's garment outputs); its extras, if still coming, follow (on_garment_extras)."""
        job = self.service.get_result(job_id, caller=caller)
        files = self.service.local_files(job_id, caller=caller)
        self.shown.show(request, "garment", job_id)
        hist = view.remember(hist, "garment", job_id, view.garment_label(job), job["category"])
        text = (f"**Done** in {job_seconds(job['timings']):.2f} s · {job['category']} · "
                f"{job['stats'].get('faces', 0)} faces · {how}")
        chosen = view.with_garment(chosen, hist, job_id, job["category"])
        return (job_id, str(files["cutout"]) if "cutout" in files else None,
                self.model(job_id, files["glb"], caller, asked), text,
                downloads(files), str(files["turntable"]) if "turntable" in files else None, hist,
                self.thumbs(view.of_kind(hist, "garment"), caller), outfit_box(hist, chosen),
                view.link_line("garment", job["page_url"]))

    def fitting(self, job: dict, hist: list[dict], caller: Caller, request: gr.Request | None,
                asked: bool = False) -> tuple:
        """A finished fitting in step 4 at once (the page's fitting outputs); its thumbnail (its
        history tile) follows (on_fit_extras)."""
        files = self.service.local_files(job["id"], caller=caller)
        self.shown.show(request, "fitting", job["id"])
        hist = view.remember(hist, "fitting", job["id"], view.fitting_label(job))
        text = f"**Done** in {job_seconds(job['timings']):.2f} s · {len(job['layers'])} garment(s)"
        return (self.model(job["id"], files["fitted_glb"], caller, asked), text, view.report_table(job["metrics"]),
                [str(files["fitted_glb"]), str(files["fitted_gltf"])], hist,
                self.thumbs(view.of_kind(hist, "fitting"), caller), view.link_line("fitting", job["page_url"]),
                job["id"])

    def extras_of(self, job_id: str | None, caller: Caller | None) -> dict | None:
        """The job once its extras are made or failed; None if they are late or it is gone (the
        page then keeps what it shows: nothing here is worth a message)."""
        try:
            job = wait_extras(self.service, job_id, caller) if job_id and caller else None
        except FitroomError:
            return None
        return job if job is not None and job["extras"] != "pending" else None

    @handled
    def on_garment_extras(self, job_id: str | None, hist: list[dict], caller: Caller | None,
                          request: gr.Request) -> tuple:
        """The shown garment's turntable, OBJ zip and history tile, once made (if it is still shown)."""
        job = self.extras_of(job_id, caller)
        if job is None or not self.shown.still(request, "garment", job_id):
            return gr.skip(), gr.skip(), gr.skip()
        files = self.service.local_files(job_id, caller=caller)
        return (downloads(files), str(files["turntable"]) if "turntable" in files else None,
                self.thumbs(view.of_kind(hist, "garment"), caller))

    @handled
    def on_fit_extras(self, job_id: str | None, hist: list[dict], caller: Caller | None, request: gr.Request):
        """The shown fitting's history tile, once its thumbnail is made (if it is still shown)."""
        job = self.extras_of(job_id, caller)
        if job is None or not self.shown.still(request, "fitting", job_id):
            return gr.skip()
        return self.thumbs(view.of_kind(hist, "fitting"), caller)
