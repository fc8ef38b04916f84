"""What declares a kind of job: its table, its stages, its time limit, its lane and its work. The
executor (core/jobs/executor.py) runs any declared kind through one skeleton, so a kind's module
holds only what is its own: the work, and what follows it once it is done."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import SQLModel

from core.config import Settings
from core.context import Context
from core.jobs.lifecycle import update_job

# Every job's first stages, as the page shows them: "queued" (the service made the job), "started"
# (a worker claimed it: core/jobs/lifecycle.py); then the kind's own; "done" ends it.
QUEUED_STAGES = ("queued", "started")


@dataclass(frozen=True)
class Job:
    """The job a kind's work is given: its context, its row (as read when the work began), and the
    one way to write to it while it runs."""

    ctx: Context
    table: type[SQLModel]
    id: str
    row: Any

    def update(self, **values) -> bool:
        """Write to the row while the job is processing; False once it has ended (its time limit)."""
        return update_job(self.ctx, self.table, self.id, **values)

    def stage(self, name: str) -> None:
        self.update(stage=name)


@dataclass(frozen=True)
class Done:
    """What a kind's work returns: the row's columns to write with `done`, and what follows once the
    job is done and shown (its extras), which nobody waits for."""

    values: Mapping[str, Any] = field(default_factory=dict)
    then: Callable[[], None] | None = None


@dataclass(frozen=True)
class JobKind:
    """One kind of job, declared once. `time_limit` names the Settings field of its limit; `gpu`:
    whether it may run in the GPU lane (a garment whose reconstructor needs the GPU)."""

    table: type[SQLModel]
    stages: tuple[str, ...]  # its own, in order, after QUEUED_STAGES
    time_limit: str
    gpu: bool
    work: Callable[[Job], Done]

    @property
    def name(self) -> str:
        """The kind as messages carry it: its table's name."""
        return self.table.__tablename__

    @property
    def all_stages(self) -> tuple[str, ...]:
        """Every stage a job of this kind shows, in order (what the page's progress bar reads)."""
        return (*QUEUED_STAGES, *self.stages)

    def time_limit_s(self, settings: Settings) -> float:
        return getattr(settings, self.time_limit)
