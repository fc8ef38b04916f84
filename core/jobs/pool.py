"""The in-process runner (`WORKER=inline`, the default): pools of worker processes inside the API
process, one lane each for CPU and GPU jobs, so that CPU jobs never wait behind GPU ones. Inline, the
GPU lane is a pool of GPU_CONCURRENCY processes that hold the models (CPU workers never load them).
On a ZeroGPU Space the GPU lane runs each job in the serving process instead, in the context of the
request that started it: ZeroGPU gives the GPU only to a call made there, and charges it to that
visitor (core/gpu.py). Every worker runs `execute` (core/jobs/executor.py), which claims the row.
"""

from __future__ import annotations

import contextvars
import logging
import multiprocessing
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from functools import partial

from pebble import ProcessExpired, ProcessPool
from sqlmodel import SQLModel

from core import gpu
from core.config import Settings
from core.context import context_for
from core.db import INTERRUPTED
from core.errors import Unavailable
from core.jobs.executor import execute, placement
from core.jobs.lifecycle import update_job
from core.jobs.warm import started, warm_cpu_worker, warm_gpu_worker
from core.models import ERROR

log = logging.getLogger("fitroom.jobs")
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
        # it preloads the job code (core.jobs, the pipeline with it) once for every worker, a
        # replacement too, not the server's __main__ (app.py imports Gradio, and Gradio imports
        # `spaces`, whose torch patch on ZeroGPU belongs to the serving process alone).
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(["core.jobs"])
        # Each CPU worker start that finished warming sends one report here (a pipe: no semaphore
        # for the process to leave behind when it ends by a signal).
        self.reports, report = self.context.Pipe(duplex=False)
        self.warmed = 0
        self.pool = ProcessPool(max_workers=settings.job_workers, initializer=warm_cpu_worker,
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
        """Start the workers now, each warming (core/jobs/warm.py) before anyone waits on it; call
        once the presets are seeded, so that their bodies are among what is warmed."""
        self.pool.schedule(started)

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

    def submit(self, table: type[SQLModel], job_id: str, timeout_s: float | None = None, owner: str | None = None,
               gpu_job: bool = False) -> None:
        """Queue a job for `owner` (the user id, else the client address; None shares one queue),
        in the GPU lane when `gpu_job` (core/jobs/executor.py: placement). On ZeroGPU a GPU job keeps
        the caller's context (the request)."""
        timeout_s, gpu_job = placement(self.settings, table, timeout_s, gpu_job)
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
            self.gpu_pool = ProcessPool(max_workers=self.settings.gpu_concurrency, initializer=warm_gpu_worker,
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
