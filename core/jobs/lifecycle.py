"""A job row's life, whatever runs it: claimed by a worker, updated while it is processing, ended as
done or error, and swept into error when nothing can finish it any more.

Every write is conditional on the row still being `processing`, so a job ended by its time limit
(or by a sweep) never turns `done` later, and a message delivered twice never runs a job twice.
The sweeps' queries live in core/db.py, beside the engine, where their importers find them.
"""

from __future__ import annotations

import logging
import threading
import traceback

from sqlalchemy import update
from sqlmodel import SQLModel

from core.config import Settings
from core.context import Context, context_for
from core.db import fail_stalled_jobs, session_scope
from core.errors import FitroomError
from core.models import ERROR, PROCESSING, utcnow

log = logging.getLogger("fitroom.jobs")
MAX_ATTEMPTS = 2  # a job whose worker died is started once more, never a third time


def claim(settings: Settings, table: type[SQLModel], job_id: str) -> bool:
    """Count a start, only while the job is processing and has starts left. A message delivered
    again after the job ended (a redelivery, a duplicate) is dropped here: no job runs twice."""
    ctx = context_for(settings)
    with session_scope(ctx.engine) as s:
        res = s.exec(update(table)  # type: ignore[call-overload]
                     .where(table.id == job_id, table.status == PROCESSING, table.attempts < MAX_ATTEMPTS)
                     .values(attempts=table.attempts + 1, stage="started", updated_at=utcnow()))
        s.commit()
    if res.rowcount:
        return True
    update_job(ctx, table, job_id, status=ERROR,  # still processing: its starts are used up
               log=f"the worker running this job died {MAX_ATTEMPTS} times; please start it again")
    return False


def update_job(ctx: Context, table: type[SQLModel], job_id: str, **values) -> bool:
    """Write to a job only while it is still processing: a job that timed out stays ended."""
    with session_scope(ctx.engine) as s:
        res = s.exec(update(table).where(table.id == job_id, table.status == PROCESSING)  # type: ignore[call-overload]
                     .values(updated_at=utcnow(), **values))
        s.commit()
        return bool(res.rowcount)


def fail(ctx: Context, table: type[SQLModel], job_id: str, exc: BaseException) -> None:
    """End a job as an error: a FitroomError's message is for the person; anything else is a bug,
    logged with its traceback and named in the row."""
    if isinstance(exc, FitroomError):
        message = str(exc)
    else:
        message = f"internal error ({type(exc).__name__}): {exc}"
        log.error("job %s failed:\n%s", job_id, traceback.format_exc())
    update_job(ctx, table, job_id, status=ERROR, log=message)


def sweep_stalled_jobs(settings: Settings, stop: threading.Event) -> None:
    """Until `stop`: end stalled jobs every quarter of STALL_AFTER_S (at most 30 s apart). For queue
    workers, whose deaths this process cannot see; a failed sweep is logged and tried again."""
    every = min(30.0, settings.resolved_stall_after_s / 4)
    while not stop.wait(every):
        try:
            if n := fail_stalled_jobs(context_for(settings).engine, settings.resolved_stall_after_s):
                log.warning("ended %d stalled jobs", n)
        except Exception:
            log.exception("stalled-job sweep failed")
