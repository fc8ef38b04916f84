"""Job runners. `WORKER=inline` (default): pools of worker processes inside the API process.
`WORKER=celery`: Celery tasks on Redis, run by `celery -A core.celery_app worker` processes.

Both call the same entry, `execute`, which claims the job row before running its job function, so
statuses, results and the count of starts live in the DB whatever runs the job.

GPU jobs have a lane of their own, so that CPU jobs never wait behind them: inline, a pool of
GPU_CONCURRENCY processes that hold the models (CPU workers never load them); with Celery, the
`GPU_QUEUE` queue for GPU workers. On a ZeroGPU Space the GPU lane runs each job in the serving
process instead, in the context of the request that started it: ZeroGPU gives the GPU only to a
call made there, and charges it to that visitor (core/gpu.py).
"""

from __future__ import annotations

import contextvars
import logging
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.connection import Connection

from pebble import ProcessExpired, ProcessPool
from sqlalchemy import update
from sqlmodel import SQLModel

from core import gpu
from core.config import Settings
from core.context import context_for
from core.db import INTERRUPTED, fail_stalled_jobs, session_scope
from core.errors import Unavailable
from core.logs import job_context
from core.models import ERROR, JOB_TABLES, PROCESSING, utcnow
from core.tasks import JOB_FUNCTIONS, update_job, warm_up

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
    """Import the pipeline when a GPU worker starts (the fork server preloads it: then a no-op)."""
    import core.pipeline  # noqa: F401


def _warm_worker(settings: Settings, report: Connection) -> None:
    """Every pool worker's start (the first ones and any that replace a worker stopped past its
    time limit or dead): warm before it takes a job, then say so to the runner, for /healthz. The
    report is one small write (atomic on a pipe); a pipe left full, never read, drops it."""
    seconds = warm_up(settings)
    os.set_blocking(report.fileno(), False)
    with suppress(BlockingIOError):
        report.send((os.getpid(), seconds))


def _started() -> None:
    """Nothing: scheduled once so that pebble starts its workers (it does so on the first job)."""


def _warm_up_gpu(settings: Settings) -> None:
    """A GPU worker loads the models as it starts, once, for every job it will run (when the
    weights are already on disk: a download is left to the first job, which announces it)."""
    _warm_up()
    try:
        from core.ai.ml import gpu as ml_gpu
        from core.ai.ml import weights

        if not weights.missing(weights.expected(settings)):
            log.info("GPU worker: %s", ml_gpu.preload(settings))
    except Exception:  # a worker that cannot preload still serves; its job says why
        log.exception("GPU worker: the models could not be loaded ahead")


Queued = tuple[type[SQLModel], str, float, contextvars.Context | None]


@dataclass
class _Owner:
    """One owner's place in a lane's fair queue."""

    queued: deque[Queued] = field(default_factory=deque)
    scheduled: int = 0  # its jobs handed to the pool, not yet settled
    served: int = -1  # the turn its last job was handed to the pool; -1: none while it has been here


@dataclass
class _Lane:
    """One kind of worker (CPU or GPU): how many jobs it runs at once, how it starts one, and its
    fair queue."""

    capacity: int
    start: Callable[[type[SQLModel], str, float, contextvars.Context | None], Future]
    owners: dict[str | None, _Owner] = field(default_factory=dict)  # owners with jobs queued or running
    scheduled: int = 0
    turn: int = 0


class JobRunner:
    """The in-process pools: worker processes, a time limit per job, crash handling, fair queues.

    Jobs wait here, one queue per owner in each lane, and go to the lane's workers one per free
    worker, the owner served longest ago first (a newcomer before anyone already served): so one
    owner's backlog delays another owner's first job by at most one job, where pebble's own FIFO
    would make it wait for the whole backlog. At most `job_workers` CPU jobs and `gpu_concurrency`
    GPU jobs run at a time, side by side."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Processes rather than threads, so that a job past its time limit can really be stopped and
        # its memory given back (pebble kills that worker and starts a fresh one). forkserver:
        # workers start from a clean, single-threaded process, never a fork of the server's threads;
        # it preloads the job code (core.tasks, the pipeline with it) once for every worker, a
        # replacement too, not the server's __main__ (app.py imports Gradio, and Gradio imports
        # `spaces`, whose torch patch on ZeroGPU belongs to the serving process alone).
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(["core.tasks"])
        # Each CPU worker start that finished warming sends one report here (a pipe: no semaphore
        # for the process to leave behind when it ends by a signal).
        self.reports, report = self.context.Pipe(duplex=False)
        self.warmed = 0
        self.pool = ProcessPool(max_workers=settings.job_workers, initializer=_warm_worker,
                                initargs=(settings, report), context=self.context)
        self.gpu_pool: ProcessPool | None = None  # started with the first GPU job
        self.in_process: ThreadPoolExecutor | None = None  # ZeroGPU's lane, likewise
        self.lanes = {"cpu": _Lane(settings.job_workers, self._start_cpu),
                      "gpu": _Lane(settings.gpu_concurrency, self._start_gpu)}
        self.closing = False
        self.active: dict[str, type[SQLModel]] = {}  # submitted, not yet settled
        # Re-entrant: a future that is already done runs its callback at once, in the thread adding it.
        self.lock = threading.RLock()

    def start(self) -> None:
        """Start the workers now, each warming (core.tasks.warm_up) before anyone waits on it; call
        once the presets are seeded, so that their bodies are among what is warmed."""
        self.pool.schedule(_started)

    def health(self) -> str:
        """'ok' once as many worker starts have warmed as the pool holds workers, else how many have."""
        with self.lock:
            while self.reports.poll():
                pid, seconds = self.reports.recv()
                self.warmed += 1
                log.info("worker warm", extra={"pid": pid, "warm_up_s": seconds})
            size = self.settings.job_workers
            warmed = min(self.warmed, size)
        return "ok" if warmed == size else f"warming: {warmed} of {size} workers ready"

    @property
    def owners(self) -> dict[str | None, _Owner]:
        """Owners with jobs queued or running, in any lane."""
        return {owner: state for lane in self.lanes.values() for owner, state in lane.owners.items()}

    @property
    def scheduled(self) -> int:
        return sum(lane.scheduled for lane in self.lanes.values())

    def submit(self, table: type[SQLModel], job_id: str, timeout_s: float, owner: str | None = None,
               gpu_job: bool = False) -> None:
        """Queue a job for `owner` (the user id, else the client address; None shares one queue),
        in the GPU lane when `gpu_job`. On ZeroGPU a GPU job keeps the caller's context (the request)."""
        lane = self.lanes["gpu" if gpu_job else "cpu"]
        context = contextvars.copy_context() if gpu_job and gpu.active() else None
        with self.lock:
            if not self.closing:
                self.active[job_id] = table
                lane.owners.setdefault(owner, _Owner()).queued.append((table, job_id, timeout_s, context))
                self._pump(lane)
                return
        self._end(table, job_id, INTERRUPTED)
        raise Unavailable("The server is stopping; please start the job again in a moment.")

    def _pump(self, lane: _Lane) -> None:
        """Hand queued jobs to free workers, the owner served longest ago first. Holds the lock."""
        while not self.closing and lane.scheduled < lane.capacity:
            waiting = [(o.served, owner) for owner, o in lane.owners.items() if o.queued]
            if not waiting:
                return
            owner = min(waiting, key=lambda w: w[0])[1]  # ties: the first to arrive
            state = lane.owners[owner]
            table, job_id, timeout_s, context = state.queued.popleft()
            state.served, lane.turn = lane.turn, lane.turn + 1
            state.scheduled += 1
            lane.scheduled += 1
            future = lane.start(table, job_id, timeout_s, context)
            future.add_done_callback(partial(self._done, lane, owner, table, job_id, timeout_s))

    def _start_cpu(self, table: type[SQLModel], job_id: str, timeout_s: float, _context) -> Future:
        return self.pool.schedule(execute, args=(self.settings, table.__tablename__, job_id), timeout=timeout_s)

    def _start_gpu(self, table: type[SQLModel], job_id: str, timeout_s: float,
                   context: contextvars.Context | None) -> Future:
        if context is not None:
            return self._start_in_process(table, job_id, timeout_s, context)
        if self.gpu_pool is None:  # its own processes: the models live there, and only there
            self.gpu_pool = ProcessPool(max_workers=self.settings.gpu_concurrency, initializer=_warm_up_gpu,
                                        initargs=(self.settings,), context=self.context)
        return self.gpu_pool.schedule(execute, args=(self.settings, table.__tablename__, job_id), timeout=timeout_s)

    def _start_in_process(self, table: type[SQLModel], job_id: str, timeout_s: float,
                          context: contextvars.Context) -> Future:
        """ZeroGPU: the job in a thread of this process, in the submitting request's context. A
        thread cannot be stopped: past its time limit the job is ended as an error here (ZeroGPU
        stops the GPU call itself at its duration), and what it writes later is dropped."""
        if self.in_process is None:
            self.in_process = ThreadPoolExecutor(self.settings.gpu_concurrency, thread_name_prefix="zerogpu-job")
        future = self.in_process.submit(context.run, execute, self.settings, table.__tablename__, job_id)
        timer = threading.Timer(timeout_s, self._end, (table, job_id, f"timed out after {timeout_s:g} s"))
        timer.daemon = True
        timer.start()
        future.add_done_callback(lambda _f: timer.cancel())
        return future

    def _done(self, lane: _Lane, owner: str | None, table: type[SQLModel], job_id: str, timeout_s: float,
              f) -> None:
        with self.lock:
            self.active.pop(job_id, None)
            lane.scheduled -= 1
            if (state := lane.owners.get(owner)) is not None:  # None: close() let everything go
                state.scheduled -= 1
                if not state.scheduled and not state.queued:
                    del lane.owners[owner]
            self._pump(lane)
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
            self.closing = True  # nothing more goes to the pools
        for pool in (self.pool, self.gpu_pool):
            if pool is not None:
                pool.stop()
                pool.join()  # outside the lock: the pool's callbacks take it
        if self.in_process is not None:
            self.in_process.shutdown(wait=False, cancel_futures=True)
        with self.lock:
            left, self.active = self.active, {}
            for lane in self.lanes.values():
                lane.owners.clear()
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

    def submit(self, table: type[SQLModel], job_id: str, timeout_s: float, owner: str | None = None,
               gpu_job: bool = False) -> None:
        """Send the job to its queue (GPU_QUEUE for a GPU job, else Celery's default). `owner` is not
        used: Celery's queue is FIFO across all clients, and what bounds one client there is its
        limit of jobs in flight (core/quotas.py)."""
        try:
            self.app.send_task(TASK_NAME, args=[table.__tablename__, job_id], time_limit=timeout_s,
                               queue=self.settings.gpu_queue if gpu_job else None)
        except Exception as exc:  # any broker failure: the job cannot start
            update_job(context_for(self.settings), table, job_id, status=ERROR,
                       log="the job queue is unavailable; please try again")
            raise Unavailable(f"The job queue is unavailable ({type(exc).__name__}).") from exc

    def start(self) -> None:
        """Nothing to start here: each Celery worker process warms itself (core/celery_app.py)."""

    def health(self) -> None:
        """None: this process cannot see the workers' state (they serve no HTTP of their own)."""

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

