"""Jobs: work that takes seconds, run outside the request by a runner and tracked in its DB row.

- `lifecycle`: a row's life (claim, conditional updates, the end as error, the sweeps).
- `kinds`: what declares a kind of job; `garment`, `fitting`, `avatar`: the three kinds, each its
  work and its declaration; `extras`: what follows a done job; `warm`: workers' warm-up.
- `executor`: the one skeleton every kind runs through, and `execute`, every runner's entry.
- runners: `pool` (`WORKER=inline`, the default: worker processes in the API process, a CPU and a
  GPU lane) and `queue` (`WORKER=celery`: Celery on Redis; the app from core/jobs/celery.py's
  factory, the worker's entry core/celery_app.py).

The names below are the package's public ones; its modules import each other, never this one.
"""

from core.config import Settings
from core.jobs.executor import KINDS, TABLES, TASK_NAME, execute, run
from core.jobs.kinds import QUEUED_STAGES, JobKind
from core.jobs.lifecycle import MAX_ATTEMPTS, update_job
from core.jobs.pool import JobRunner
from core.jobs.queue import CeleryRunner

__all__ = ["KINDS", "MAX_ATTEMPTS", "QUEUED_STAGES", "TABLES", "TASK_NAME", "CeleryRunner", "JobKind", "JobRunner",
           "execute", "make_runner", "run", "update_job"]


def make_runner(settings: Settings) -> JobRunner | CeleryRunner:
    """The runner `WORKER` names."""
    return CeleryRunner(settings) if settings.worker == "celery" else JobRunner(settings)
