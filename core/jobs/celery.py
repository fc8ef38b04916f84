"""Scale-out: jobs as Celery tasks on Redis. The app is built by a factory from the Settings it is
given (`make_celery`: the API process sends with it, core/jobs/queue.py); a worker's app also
wires the worker's logging and its pool processes' warm-up (`worker_app`, which core/celery_app.py
builds for `celery -A core.celery_app worker`). Importing this module builds nothing.

The task only calls `execute`, the same entry the in-process pool uses: statuses and results are
written to the DB by the job itself, the broker carries nothing but (kind, job id).
"""

from __future__ import annotations

from celery import Celery, Task, signals
from celery.exceptions import TimeLimitExceeded

from core.config import Settings
from core.context import context_for, forget_connections_after_fork
from core.jobs.executor import TABLES, TASK_NAME, execute
from core.jobs.lifecycle import update_job
from core.jobs.warm import warm_up
from core.logs import configure_logging
from core.models import ERROR

WARM_UP_LIMIT_S = 120.0  # Celery's default, 4 s, would kill a pool process still warming


class JobTask(Task):
    """Hard time limits kill the job's process; Celery then calls this in the worker's main process."""

    settings: Settings  # the app's, set by make_celery on the task it registers

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        if isinstance(exc, TimeLimitExceeded) and len(args) == 2:
            kind, job_id = args
            update_job(context_for(self.settings), TABLES[kind], job_id, status=ERROR,
                       log=f"timed out after {exc.args[0]:g} s and was stopped")


def make_celery(settings: Settings) -> Celery:
    """A Celery app on `settings`' broker, with the job task registered, running on `settings`."""
    app = Celery("fitroom", broker=settings.redis_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,  # the message leaves the queue only once its job has run…
        task_reject_on_worker_lost=True,  # …and goes back to it if the process running it died
        worker_prefetch_multiplier=1,  # a worker holds no queued jobs beyond those it runs
        task_ignore_result=True,  # results and statuses live in the DB
        task_serializer="json", accept_content=["json"],
        broker_connection_retry_on_startup=True,
        worker_proc_alive_timeout=WARM_UP_LIMIT_S,  # a pool process warms (below) before it says it is up
        worker_hijack_root_logger=False,  # our JSON logs, at LOG_LEVEL
        # A worker killed outright never acks: Redis hands its message out again after this long.
        broker_transport_options={"visibility_timeout": settings.resolved_queue_visibility_s,
                                  "unacked_restore_interval": 5, "unacked_restore_throttle": 1},
    )

    # Options become the task's attributes; shared=False: not added to every app made later (each
    # app's task runs on that app's settings).
    @app.task(name=TASK_NAME, base=JobTask, shared=False, settings=settings)
    def run_job(kind: str, job_id: str) -> None:
        execute(settings, kind, job_id)

    return app


def worker_app(settings: Settings) -> Celery:
    """The app of a `celery worker` process: make_celery's, plus the worker's JSON logs at LOG_LEVEL
    and a warm-up in every pool process it starts."""
    def logging_(**_kwargs) -> None:
        configure_logging(settings.log_level)

    def child_started(**_kwargs) -> None:
        """A pool process is a fork of the worker: it must not reuse the parent's DB connections. It
        warms before it takes a job, as the inline pool's workers do (Celery waits for it: see
        worker_proc_alive_timeout)."""
        forget_connections_after_fork()
        warm_up(settings)

    signals.setup_logging.connect(logging_, weak=False)
    signals.worker_process_init.connect(child_started, weak=False)
    return make_celery(settings)
