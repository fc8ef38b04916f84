"""The in-process job runner: a pool of worker processes, a time limit per job, crash handling.

Processes rather than threads, so that a job past its time limit can really be stopped and its
memory given back (pebble kills that worker and starts a fresh one).
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from concurrent.futures import TimeoutError as FutureTimeout

from pebble import ProcessExpired, ProcessPool
from sqlmodel import SQLModel

from core.config import Settings
from core.context import context_for
from core.db import INTERRUPTED
from core.models import ERROR
from core.tasks import JOB_FUNCTIONS, update_job

log = logging.getLogger("fitroom.jobs")


def _warm_up() -> None:
    """Import the pipeline when a worker starts, so a user's first job does not pay for it."""
    import core.pipeline  # noqa: F401


class JobRunner:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # forkserver: workers start from a clean, single-threaded process, never a fork of the
        # server's threads.
        self.pool = ProcessPool(max_workers=settings.job_workers, initializer=_warm_up,
                                context=multiprocessing.get_context("forkserver"))
        self.closing = False
        self.active: dict[str, type[SQLModel]] = {}  # submitted, not yet settled
        self.lock = threading.Lock()

    def submit(self, table: type[SQLModel], job_id: str, timeout_s: float) -> None:
        with self.lock:
            self.active[job_id] = table
        future = self.pool.schedule(JOB_FUNCTIONS[table], args=(self.settings, job_id), timeout=timeout_s)

        def done(f) -> None:
            with self.lock:
                self.active.pop(job_id, None)
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

        future.add_done_callback(done)

    def _end(self, table: type[SQLModel], job_id: str, message: str) -> None:
        log.warning("job %s: %s", job_id, message)
        update_job(context_for(self.settings), table, job_id, status=ERROR, log=message)

    def close(self) -> None:
        """Stop now: running and queued jobs end as interrupted, none stays processing."""
        self.closing = True
        self.pool.stop()
        self.pool.join()
        with self.lock:
            left, self.active = self.active, {}
        for job_id, table in left.items():  # callbacks may not have run yet; the write is idempotent
            self._end(table, job_id, INTERRUPTED)
