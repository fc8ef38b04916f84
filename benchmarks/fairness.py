"""Benchmark: how long one client's backlog holds back another client's first job. Client B's first
garment (photo → 3D, silhouette, low: a real job of about 0.3 s) is timed alone, then with client A's
garment jobs queued just before it, on the real service, database and worker processes (2 by default).

Usage: python benchmarks/fairness.py [--backlog N] [--workers N] [--fifo]
The service submits each job with its user as owner (the fair queue); --fifo drops the owner, as
the service did before: one FIFO queue. A's jobs-in-flight quota is lifted to the backlog, so that
the queue is what is measured (with the default quota A's 4th job is refused). Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path

from common import table

from core.config import Settings
from core.context import context_for
from core.db import session_scope
from core.identity import Caller
from core.jobs import JobRunner
from core.models import PROCESSING, Cloth3D
from core.samples import draw_garment
from core.service import FitroomService


def photo() -> io.BytesIO:
    buf = io.BytesIO()
    draw_garment("top")[0].save(buf, format="JPEG")
    buf.seek(0)
    return buf


def without_owners(service: FitroomService) -> None:
    """Submit each job without its owner: one FIFO queue, as before the fair queue."""
    submit = service.runner.submit
    service.runner.submit = lambda table_, job_id, timeout_s, owner=None: submit(table_, job_id, timeout_s)


def wait_done(service: FitroomService, job_ids: list[str]) -> dict[str, float]:
    """Each job's end time (perf_counter), polled."""
    ended: dict[str, float] = {}
    while len(ended) < len(job_ids):
        for job_id in job_ids:
            with session_scope(service.ctx.engine) as db:  # any user's job: read its row
                running = db.get(Cloth3D, job_id).status == PROCESSING
            if job_id not in ended and not running:
                ended[job_id] = time.perf_counter()
        time.sleep(0.01)
    return ended


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--backlog", type=int, default=30)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--fifo", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", job_workers=args.workers, log_level="WARNING",
                            quota_jobs_in_flight=args.backlog + 4, quota_address_jobs_in_flight=args.backlog + 8)
        service = FitroomService(context_for(settings), JobRunner(settings))
        service.start()
        if args.fifo:
            without_owners(service)
        a, b = (Caller(service.identity.issue()[0], "127.0.0.1") for _ in range(2))
        cloth = {u: service.upload_image(photo(), "tee.jpg", caller=u)["id"] for u in (a, b)}

        def garment(user: Caller) -> str:
            return service.generate_3d(cloth[user], "silhouette", "low", caller=user)["id"]

        wait_done(service, [garment(a) for _ in range(args.workers)])  # warm every worker
        alone = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            job = garment(b)
            alone.append(wait_done(service, [job])[job] - t0)
        t0 = time.perf_counter()
        backlog = [garment(a) for _ in range(args.backlog)]
        tb = time.perf_counter()
        job = garment(b)
        ended = wait_done(service, [*backlog, job])
        behind = ended[job] - tb
        service.runner.close()
    own = statistics.median(alone)
    rows = [{"case": "B alone (median)", "b_first_job_s": own},
            {"case": f"B after A's {args.backlog} jobs", "b_first_job_s": behind, "a_backlog_s": max(
                ended[j] for j in backlog) - t0},
            {"case": "difference", "b_first_job_s": behind - own}]
    print(f"queue: {'FIFO (no owner)' if args.fifo else 'fair (owner = user id)'}  workers: {args.workers}")
    print(table(rows, ["case", "b_first_job_s", "a_backlog_s"]))


if __name__ == "__main__":
    main()
