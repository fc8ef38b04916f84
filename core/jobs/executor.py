"""The one way any runner runs a job: `execute` claims the row, then `run` takes the declared kind
through the skeleton every kind shares (read the row, do the work, write `done` with its outputs
or `error` with a message, then what follows). Runners send only (kind, job id)."""

from __future__ import annotations

import logging

from sqlmodel import SQLModel

from core.config import Settings
from core.context import context_for
from core.db import session_scope
from core.jobs.avatar import AVATAR
from core.jobs.extras import at_low_priority
from core.jobs.fitting import FITTING
from core.jobs.garment import GARMENT
from core.jobs.kinds import Job, JobKind
from core.jobs.lifecycle import claim, fail, update_job
from core.logs import job_context
from core.models import DONE

log = logging.getLogger("fitroom.jobs")
KINDS = {kind.name: kind for kind in (GARMENT, FITTING, AVATAR)}
TABLES = {name: kind.table for name, kind in KINDS.items()}
TASK_NAME = "fitroom.run_job"  # `execute` as a queue's task (core/jobs/celery.py)


def placement(settings: Settings, table: type[SQLModel], timeout_s: float | None,
              gpu_job: bool) -> tuple[float, bool]:
    """A job's time limit (the caller's, else its kind's) and whether it goes to the GPU lane (only
    a kind declared `gpu` may, when the caller says its job needs the GPU)."""
    kind = KINDS[table.__tablename__]
    return (kind.time_limit_s(settings) if timeout_s is None else timeout_s), gpu_job and kind.gpu


def run(kind: JobKind, settings: Settings, job_id: str) -> None:
    """Run one job of `kind` in this process, already claimed. Every failure ends the job with a
    message; a job ended meanwhile (its time limit) is left as it is, and gets no extras."""
    ctx = context_for(settings)
    try:
        with session_scope(ctx.engine) as s:
            row = s.get(kind.table, job_id)
        done = kind.work(Job(ctx, kind.table, job_id, row))
        if not update_job(ctx, kind.table, job_id, status=DONE, stage="done", **done.values):
            return
    except Exception as exc:  # noqa: BLE001 - every failure must end the job with a message
        fail(ctx, kind.table, job_id, exc)
        return
    if done.then is not None:
        at_low_priority(done.then)


def execute(settings: Settings, kind: str, job_id: str) -> None:
    """Claim the job, then run it: the only way any runner starts one."""
    job_kind = KINDS[kind]
    if not claim(settings, job_kind.table, job_id):
        log.info("job not started: it already ended", extra={"job_id": job_id, "kind": kind})
        return
    with job_context(job_id):
        log.info("job started", extra={"kind": kind})
        run(job_kind, settings, job_id)
        log.info("job ended", extra={"kind": kind})
