"""Warm workers: a worker process gets ready for a person's first job before it takes one, in the
inline pool (its initializers, below) and in Celery's pool processes (core/jobs/celery.py)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from contextlib import suppress
from multiprocessing.connection import Connection

from sqlmodel import select

from core.ai.reconstructors import REGISTRY, resolve
from core.ai.segment import segmenter_for
from core.avatars.builder import ensure_model_cache
from core.config import Settings
from core.context import context_for
from core.db import session_scope
from core.fitting.body import BodyModel
from core.fitting.fit import FitLayer
from core.garment.parse import stored_parse
from core.jobs.fitting import avatar_body, stored_openings
from core.models import DONE, AvatarPreset
from core.pipeline import GarmentFiles, dress, photo_to_garment
from core.samples import draw_garment

log = logging.getLogger("fitroom.jobs")


def warm_up(settings: Settings) -> dict[str, float]:
    """Make this worker process ready for a person's first job before it takes one: the check an
    `auto` job makes of the GPU path (it imports torch where installed), the cut-out model, the
    seeded presets' prepared bodies, one garment and one fit made and thrown away (the first run
    of each pays for lazy imports and first calls), and anny's model cache, built once per machine
    (the custom avatars' model: minutes, the first time only). Returns each step's seconds; never raises: a
    step that fails is logged and left to the job that needs it, which then fails with its message."""
    ctx = context_for(settings)
    bodies: list[BodyModel] = []
    made: list[GarmentFiles] = []

    def presets() -> None:
        with session_scope(ctx.engine) as s:
            rows = s.exec(select(AvatarPreset).where(AvatarPreset.is_custom == False,  # noqa: E712 - SQL
                                                     AvatarPreset.status == DONE)).all()
        bodies.extend(avatar_body(ctx, row) for row in rows)

    def garment() -> None:
        made.append(photo_to_garment(draw_garment("top")[0], None, "low", REGISTRY["silhouette"],
                                     segmenter=segmenter_for(settings)))

    def fit() -> None:
        if made and bodies:
            stats = made[0].stats
            layer = FitLayer(made[0].mesh, "top", "top", stored_parse(stats, "top"), stored_openings(stats))
            dress([layer], bodies[0], offset_mm=settings.clearance_mm)

    steps: dict[str, Callable[[], object]] = {
        "gpu_check": lambda: resolve("auto", settings), "cutout_model": lambda: segmenter_for(settings),
        "preset_bodies": presets, "garment": garment, "fit": fit, "avatar_model": ensure_model_cache}
    seconds: dict[str, float] = {}
    for name, step in steps.items():
        t0 = time.perf_counter()
        try:
            step()
        except Exception:  # a cold worker still serves: the job that needs the step reports it
            log.exception("worker warm-up: %s failed", name)
        seconds[name] = round(time.perf_counter() - t0, 3)
    log.info("worker warm", extra={"warm_up_s": seconds})
    return seconds


def warm_cpu_worker(settings: Settings, report: Connection) -> None:
    """Every CPU pool worker's start (the first ones and any that replace a worker stopped past its
    time limit or dead): warm before it takes a job, then say so to the runner, for /healthz. The
    report is one small write (atomic on a pipe); a pipe left full, never read, drops it."""
    seconds = warm_up(settings)
    os.set_blocking(report.fileno(), False)
    with suppress(BlockingIOError):
        report.send((os.getpid(), seconds))


def warm_gpu_worker(settings: Settings) -> None:
    """A GPU worker loads the models as it starts, once, for every job it will run (when the
    weights are already on disk: a download is left to the first job, which announces it)."""
    try:
        from core.ai.ml import weights

        if not weights.missing(weights.expected(settings)):
            from core.ai.ml import startup  # torch: only in the GPU lane's processes

            log.info("GPU worker: %s", startup.preload(settings))
    except Exception:  # a worker that cannot preload still serves; its job says why
        log.exception("GPU worker: the models could not be loaded ahead")


def started() -> None:
    """Nothing: scheduled once so that pebble starts its workers (it does so on the first job)."""
