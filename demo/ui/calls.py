"""The service calls the page and the one-call API operations make alike: a photo (and its back)
uploaded from Gradio's upload folder, a garment generated and a fitting run, each waited for in
the call with its stages as progress; a job that failed is refused with its message."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import gradio as gr

from core.config import Settings
from core.errors import about
from core.identity import Caller
from core.service import BACK_PHOTO, FitroomService
from core.tasks import FIT_STAGES, GENERATE_STAGES
from demo.gradio_files import client_file
from demo.ui.progress import SHOW_S, wait

WAIT_MARGIN_S = 15  # a call waits for a job this much past its time limit (the queue, the claim)


def wait_limit_s(settings: Settings, kind: str) -> float:
    """How long a call waits for a job of `kind` ("garment" or "fitting")."""
    return {"garment": settings.generate_timeout_s, "fitting": settings.fit_timeout_s}[kind] + WAIT_MARGIN_S


def upload_photo(service: FitroomService, uploads: tuple[Path, ...], photo: str, back: str | None,
                 caller: Caller) -> dict:
    """The Cloth of a garment photo and its optional back, both files the client uploaded to Gradio
    (`uploads`: the folders it may name); a refused back says it is the back."""
    limit = service.ctx.settings.max_upload_bytes
    path = client_file(photo, uploads, limit)
    with about(BACK_PHOTO):
        back_path = client_file(back, uploads, limit) if back else None
    with path.open("rb") as fh, (back_path.open("rb") if back_path else nullcontext()) as back_fh:
        return service.upload_image(fh, path.name, back_fh, caller=caller)


def generated(service: FitroomService, cloth_id: str, model: str, quality: str, category: str | None,
              caller: Caller, progress: gr.Progress, every: float | None = SHOW_S) -> dict:
    """The finished 3D garment of an uploaded photo (`every`: as wait's)."""
    job = service.generate_3d(cloth_id, model, quality, category, caller=caller)
    return garment_done(service, job["id"], caller, progress, every)


def garment_done(service: FitroomService, job_id: str, caller: Caller, progress: gr.Progress,
                 every: float | None = SHOW_S) -> dict:
    """A generate_3d job once finished, waited for with its stages as progress."""
    return wait(service, job_id, GENERATE_STAGES, progress, wait_limit_s(service.ctx.settings, "garment"), caller,
                failed="Generation failed", every=every)


def fitted(service: FitroomService, layers: str | list[str], avatar_id: str, ease: str, tuck_in: bool,
           caller: Caller, progress: gr.Progress, every: float | None = SHOW_S) -> dict:
    """The finished fitting of one garment or layers on an avatar (`every`: as wait's)."""
    job = service.fit(layers, avatar_id, ease, tuck_in, caller=caller)
    return fitting_done(service, job["id"], caller, progress, every)


def fitting_done(service: FitroomService, job_id: str, caller: Caller, progress: gr.Progress,
                 every: float | None = SHOW_S) -> dict:
    """A fit job once finished, waited for with its stages as progress."""
    return wait(service, job_id, FIT_STAGES, progress, wait_limit_s(service.ctx.settings, "fitting"), caller,
                failed="Fitting failed", every=every)
