"""The Celery runner (`WORKER=celery`): the API process's side of the queue. It sends (kind, job id)
to Redis for `celery worker` processes (core/jobs/celery.py) and sweeps jobs whose worker vanished."""

from __future__ import annotations

import threading

from sqlmodel import SQLModel

from core.config import Settings
from core.context import context_for
from core.errors import Unavailable
from core.jobs.executor import TASK_NAME, placement
from core.jobs.lifecycle import sweep_stalled_jobs, update_job
from core.models import ERROR


class CeleryRunner:
    """Jobs sent to Celery workers through Redis. The API process only sends (kind, job id); the
    worker runs `execute` under a hard time limit. A thread here ends jobs whose worker vanished."""

    def __init__(self, settings: Settings) -> None:
        from core.jobs.celery import make_celery  # celery is imported only by this runner

        self.settings = settings
        self.app = make_celery(settings)
        self.stop = threading.Event()
        self.sweeper = threading.Thread(target=sweep_stalled_jobs, args=(settings, self.stop),
                                        name="stalled-job-sweep", daemon=True)
        self.sweeper.start()

    def submit(self, table: type[SQLModel], job_id: str, timeout_s: float | None = None, owner: str | None = None,
               gpu_job: bool = False) -> None:
        """Send the job to its queue (GPU_QUEUE for a GPU job, else Celery's default). `owner` is not
        used: Celery's queue is FIFO across all clients, and what bounds one client there is its
        limit of jobs in flight (core/quotas.py)."""
        timeout_s, gpu_job = placement(self.settings, table, timeout_s, gpu_job)
        try:
            self.app.send_task(TASK_NAME, args=[table.__tablename__, job_id], time_limit=timeout_s,
                               queue=self.settings.gpu_queue if gpu_job else None)
        except Exception as exc:  # any broker failure: the job cannot start
            update_job(context_for(self.settings), table, job_id, status=ERROR,
                       log="the job queue is unavailable; please try again")
            raise Unavailable(f"The job queue is unavailable ({type(exc).__name__}).") from exc

    def start(self) -> None:
        """Nothing to start here: each Celery worker process warms itself (core/jobs/celery.py)."""

    def health(self) -> None:
        """None: this process cannot see the workers' state (they serve no HTTP of their own)."""

    def close(self) -> None:
        """Jobs keep running on the workers; only this process's connections end."""
        self.stop.set()
        self.app.close()
