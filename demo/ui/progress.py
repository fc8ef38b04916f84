"""Waiting on a job inside one Gradio call, for the page and for the one-call API operations: its
stages go out as gr.Progress (the page's bar; gradio_client's `job.status().progress_data`)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import gradio as gr

from core.identity import Caller
from core.service import FitroomService
from demo.ui.errors import refused

POLL_S = 0.05  # a job's end is seen within this (a read of its row): the page shows it at once
SHOW_S = 0.25  # for API clients, the bar's elapsed time is sent this often (and at each new stage)


def wait(service: FitroomService, job_id: str, stages: Sequence[str], progress: gr.Progress,
         timeout_s: float, caller: Caller, failed: str | None = None, every: float | None = SHOW_S) -> dict:
    """Poll a job, showing its stage and the elapsed time (every `every` seconds), until it ends;
    with `failed`, a job that ended in error is refused with that prefix and its message instead of
    returned. The page passes every=None: its bar's own timer shows the time, so only a new stage
    is sent (each message redraws the page's progress, on the cores the browser shares)."""
    t0 = time.monotonic()
    step, shown, shown_at = 0, None, 0.0
    while True:
        job = service.get_result(job_id, caller=caller)
        if job["status"] != "processing":
            if failed and job["status"] == "error":
                raise refused(f"{failed}: {job['log']}")
            return job
        stage = job.get("stage") or "queued"
        # A stage outside the list (a weights download line) keeps the bar where it was.
        step = stages.index(stage) if stage in stages else step
        if stage != shown or (every is not None and time.monotonic() - shown_at >= every):
            progress((step, len(stages)), desc=stage if every is None else f"{stage} · {time.monotonic() - t0:.1f} s")
            shown, shown_at = stage, time.monotonic()
        if time.monotonic() - t0 > timeout_s:
            raise refused("The job is taking longer than its time limit; check its status later.")
        time.sleep(POLL_S)


def wait_extras(service: FitroomService, job_id: str, caller: Caller, timeout_s: float = 15.0) -> dict:
    """A finished job's extras (a garment's thumbnail, OBJ zip and turntable; a fitting's thumbnail)
    follow it within a second or two, after it is shown: wait for them."""
    deadline = time.monotonic() + timeout_s
    while (job := service.get_result(job_id, caller=caller))["extras"] == "pending" and time.monotonic() < deadline:
        time.sleep(POLL_S)
    return job
