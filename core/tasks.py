"""The names other modules have imported from here, now defined in core/jobs/: the job kinds'
stage lists (the page reads them), the import marker, and the garment and fitting kinds as
functions of (settings, job id), run by the one executor."""

from __future__ import annotations

from functools import partial

from core.jobs.avatar import AVATAR
from core.jobs.executor import run
from core.jobs.fitting import FITTING
from core.jobs.garment import GARMENT, IMPORT
from core.jobs.kinds import QUEUED_STAGES
from core.jobs.lifecycle import update_job

__all__ = ["AVATAR_STAGES", "FIT_STAGES", "GENERATE_STAGES", "IMPORT", "QUEUED_STAGES", "run_fit", "run_generate",
           "update_job"]
GENERATE_STAGES = GARMENT.all_stages
FIT_STAGES = FITTING.all_stages
AVATAR_STAGES = AVATAR.all_stages
run_generate = partial(run, GARMENT)  # (settings, job_id): a claimed job, run in this process
run_fit = partial(run, FITTING)
