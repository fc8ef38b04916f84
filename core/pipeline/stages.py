"""The pipeline's stage names and its timer: the names are a contract (the page's progress bars and
each job's `timings` read them), so they are written here once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from core.ai import ml

StageCallback = Callable[[str], None]

# The stages each job function publishes through `on_stage`, in order: the page's progress bars read them.
PHOTO_STAGES = ("cut-out", "category", "reconstruction", *ml.STAGES, "cleanup", "export", "preview")
DRESS_STAGES = ("fitting", "export")
# Timed, not published: made once the job is done and shown, nobody waits for them (its extras).
EXTRA_STAGES = ("thumbnail", "obj", "turntable")


def job_seconds(timings: dict[str, float]) -> float:
    """A job's own time, up to `done`: its stages, neither their parts ("reconstruction/…") nor extras."""
    return sum(v for k, v in timings.items() if k not in EXTRA_STAGES and "/" not in k)


@dataclass
class Timer:
    """Seconds per stage, added up; `on_stage` hears each stage's name as it starts (a job writes it
    to its row). Start one on an earlier step's `timings` to go on where that step ended."""

    on_stage: StageCallback | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self.on_stage:
            self.on_stage(name)
        t0 = time.perf_counter()
        yield
        self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - t0, 4)
