"""Job runners. `WORKER=inline` (default): a pool of worker processes inside the API process.
`WORKER=celery`: Celery tasks on Redis, run by `celery -A core.celery_app worker` processes.

Both call the same entry, `execute`, which claims the job row before running its job function, so
statuses, results and the count of starts live in the DB whatever runs the job.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections import deque
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from functools import partial

from pebble import ProcessExpired, ProcessPool
from sqlalchemy import update
from sqlmodel import SQLModel

from core.config import Settings
from core.context import context_for
from core.db import INTERRUPTED, fail_stalled_jobs, session_scope
from core.errors import Unavailable
from core.logs import job_context
from core.models import ERROR, JOB_TABLES, PROCESSING, utcnow
from core.tasks import JOB_FUNCTIONS, update_job

log = logging.getLogger("fitroom.jobs")
TABLES = {t.__tablename__: t for t in JOB_TABLES}
MAX_ATTEMPTS = 2  # a job whose worker died is started once more, never a third time
TASK_NAME = "fitroom.run_job"


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


def execute(settings: Settings, kind: str, job_id: str) -> None:
    """Run one job in this process: the only way any runner starts a job function."""
    table = TABLES[kind]
    if not claim(settings, table, job_id):
        log.info("job not started: it already ended", extra={"job_id": job_id, "kind": kind})
        return
    with job_context(job_id):
        log.info("job started", extra={"kind": kind})
        JOB_FUNCTIONS[table](settings, job_id)
        log.info("job ended", extra={"kind": kind})


def _warm_up() -> None:
    """Import the pipeline when a worker starts, so a user's first job does not pay for it."""
    import core.pipeline  # noqa: F401


@dataclass
class _Owner:
    """One owner's place in the fair queue."""

    queued: deque[tuple[type[SQLModel], str, float]] = field(default_factory=deque)
    scheduled: int = 0  # its jobs handed to the pool, not yet settled
    served: int = -1  # the turn its last job was handed to the pool; -1: none while it has been here


class JobRunner:
    """The in-process pool: worker processes, a time limit per job, crash handling, and a fair queue.

    Jobs wait here, one queue per owner, and go to the pool one per free worker, the owner served
    longest ago first (a newcomer before anyone already served): so one owner's backlog delays
    another owner's first job by at most one job, where pebble's own FIFO would make it wait for the
    whole backlog. At most `job_workers` jobs are in the pool at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Processes rather than threads, so that a job past its time limit can really be stopped and
        # its memory given back (pebble kills that worker and starts a fresh one). forkserver:
        # workers start from a clean, single-threaded process, never a fork of the server's threads.
        self.pool = ProcessPool(max_workers=settings.job_workers, initializer=_warm_up,
                                context=multiprocessing.get_context("forkserver"))
        self.closing = False
        self.active: dict[str, type[SQLModel]] = {}  # submitted, not yet settled
        self.owners: dict[str | None, _Owner] = {}  # owners with jobs queued or in the pool
        self.scheduled = 0
        self.turn = 0
        # Re-entrant: a future that is already done runs its callback at once, in the thread adding it.
        self.lock = threading.RLock()

    def submit(self, table: type[SQLModel], job_id: str, timeout_s: float, owner: str | None = None) -> None:
        """Queue a job for `owner` (the user id, else the client address; None shares one queue)."""
        with self.lock:
            if not self.closing:
                self.active[job_id] = table
                self.owners.setdefault(owner, _Owner()).queued.append((table, job_id, timeout_s))
                self._pump()
                return
        self._end(table, job_id, INTERRUPTED)
        raise Unavailable("The server is stopping; please start the job again in a moment.")

    def _pump(self) -> None:
        """Hand queued jobs to free workers, the owner served longest ago first. Holds the lock."""
        while not self.closing and self.scheduled < self.settings.job_workers:
            waiting = [(o.served, owner) for owner, o in self.owners.items() if o.queued]
            if not waiting:
                return
            owner = min(waiting, key=lambda w: w[0])[1]  # ties: the first to arrive
            state = self.owners[owner]
            table, job_id, timeout_s = state.queued.popleft()
            state.served, self.turn = self.turn, self.turn + 1
            state.scheduled += 1
            self.scheduled += 1
            future = self.pool.schedule(execute, args=(self.settings, table.__tablename__, job_id),
                                        timeout=timeout_s)
            future.add_done_callback(partial(self._done, owner, table, job_id, timeout_s))

    def _done(self, owner: str | None, table: type[SQLModel], job_id: str, timeout_s: float, f) -> None:
        with self.lock:
            self.active.pop(job_id, None)
            self.scheduled -= 1
            if (state := self.owners.get(owner)) is not None:  # None: close() let everything go
                state.scheduled -= 1
                if not state.scheduled and not state.queued:
                    del self.owners[owner]
            self._pump()
        try:
            f.result()
            return
        except FutureTimeout:
            message = f"timed out after {timeout_s:g} s and was stopped"
        except ProcessExpired as exc:
            message = f"the worker process died (exit code {exc.exitcode})"
        except BaseException as exc:  # noqa: BLE001 - cancellation too: every end is recorded
            message = f"internal error ({type(exc).__name__}): {exc}"
        self._end(table, job_id, INTERRUPTED if self.closing else message)

    def _end(self, table: type[SQLModel], job_id: str, message: str) -> None:
        """End a job still processing as an error; one already ended (done, its extras still being
        made when the pool stopped) keeps its status and is not reported."""
        if update_job(context_for(self.settings), table, job_id, status=ERROR, log=message):
            log.warning("job ended: %s", message, extra={"job_id": job_id})

    def close(self) -> None:
        """Stop now: running and queued jobs end as interrupted, none stays processing."""
        with self.lock:
            self.closing = True  # nothing more goes to the pool
        self.pool.stop()
        self.pool.join()  # outside the lock: the pool's callbacks take it
        with self.lock:
            left, self.active = self.active, {}
            self.owners.clear()
        for job_id, table in left.items():  # callbacks may not have run yet; the write is idempotent
            self._end(table, job_id, INTERRUPTED)


class CeleryRunner:
    """Jobs sent to Celery workers through Redis. The API process only sends (kind, job id); the
    worker runs `execute` under a hard time limit. A thread here ends jobs whose worker vanished."""

    def __init__(self, settings: Settings) -> None:
        from core.celery_app import make_celery  # celery is imported only by this runner

        self.settings = settings
        self.app = make_celery(settings)
        self.stop = threading.Event()
        self.sweeper = threading.Thread(target=self._sweep, name="stalled-job-sweep", daemon=True)
        self.sweeper.start()

    def submit(self, table: type[SQLModel], job_id: str, timeout_s: float, owner: str | None = None) -> None:
        """Send the job to the queue. `owner` is not used: Celery's queue is FIFO across all clients,
        and what bounds one client there is its limit of jobs in flight (core/quotas.py)."""
        try:
            self.app.send_task(TASK_NAME, args=[table.__tablename__, job_id], time_limit=timeout_s)
        except Exception as exc:  # any broker failure: the job cannot start
            update_job(context_for(self.settings), table, job_id, status=ERROR,
                       log="the job queue is unavailable; please try again")
            raise Unavailable(f"The job queue is unavailable ({type(exc).__name__}).") from exc

    def _sweep(self) -> None:
        every = min(30.0, self.settings.resolved_stall_after_s / 4)
        while not self.stop.wait(every):
            try:
                if n := fail_stalled_jobs(context_for(self.settings).engine, self.settings.resolved_stall_after_s):
                    log.warning("ended %d stalled jobs", n)
            except Exception:
                log.exception("stalled-job sweep failed")

    def close(self) -> None:
        """Jobs keep running on the workers; only this process's connections end."""
        self.stop.set()
        self.app.close()


def make_runner(settings: Settings) -> JobRunner | CeleryRunner:
    return CeleryRunner(settings) if settings.worker == "celery" else JobRunner(settings)

