"""`execute`, the one entry every runner uses: a job is claimed in the DB before it runs, a job that
ended is never run again, and a job whose worker died twice ends as an error."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout

import pytest
from sqlmodel import select

from core import jobs
from core.context import context_for
from core.db import INTERRUPTED, init_db, session_scope
from core.errors import Unavailable
from core.jobs import executor, pool, update_job
from core.jobs.extras import NICER, at_low_priority
from core.logs import JsonFormatter, job_context
from core.models import Cloth3D

pytestmark = pytest.mark.both_dbs


@pytest.fixture
def ran(settings, monkeypatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(executor, "run", lambda _kind, _settings, job_id: calls.append(job_id))
    init_db(context_for(settings).engine)
    return calls


def add(settings, **values) -> str:
    row = Cloth3D(cloth_id="c", stage="queued", **values)
    with session_scope(context_for(settings).engine) as s:
        s.add(row)
        s.commit()
    return row.id


def row(settings, job_id: str) -> Cloth3D:
    with session_scope(context_for(settings).engine) as s:
        return s.get(Cloth3D, job_id)


def test_a_job_is_claimed_then_run(settings, ran) -> None:
    job_id = add(settings)
    jobs.execute(settings, "cloth3d", job_id)
    assert ran == [job_id]
    assert row(settings, job_id).attempts == 1 and row(settings, job_id).stage == "started"


@pytest.mark.parametrize("status", ["done", "error"])
def test_an_ended_job_is_not_run_again(settings, ran, status) -> None:
    job_id = add(settings, status=status)
    jobs.execute(settings, "cloth3d", job_id)  # e.g. the broker delivers its message a second time
    assert ran == [] and row(settings, job_id).status == status and row(settings, job_id).attempts == 0


def test_a_job_is_started_at_most_twice(settings, ran) -> None:
    job_id = add(settings, attempts=jobs.MAX_ATTEMPTS)
    jobs.execute(settings, "cloth3d", job_id)
    job = row(settings, job_id)
    assert ran == [] and job.status == "error" and "died 2 times" in job.log


def test_an_unknown_kind_is_refused(settings, ran) -> None:
    with pytest.raises(KeyError):
        jobs.execute(settings, "user", add(settings))
    assert ran == []


def test_an_unreachable_queue_ends_the_job_and_says_so(settings) -> None:
    from core.errors import Unavailable
    from tests.conftest import free_port

    settings = settings.model_copy(update={"worker": "celery", "redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    runner = jobs.make_runner(settings)
    try:
        assert isinstance(runner, jobs.CeleryRunner)
        init_db(context_for(settings).engine)
        job_id = add(settings)
        with pytest.raises(Unavailable, match="job queue is unavailable"):
            runner.submit(Cloth3D, job_id, 10)
    finally:
        runner.close()
    job = row(settings, job_id)
    assert job.status == "error" and "queue is unavailable" in job.log


# -- the fair queue: real worker processes running a stand-in for `execute` -------------------------
def logged_job(settings, kind: str, job_id: str) -> None:
    """Run in a worker instead of `execute`: notes its start, works for a moment, ends done."""
    with open(settings.data_dir / "starts.log", "a") as f:
        f.write(job_id + "\n")
    time.sleep(0.2 if job_id.startswith("slow") else 0.05)
    update_job(context_for(settings), jobs.TABLES[kind], job_id, status="done")


@pytest.fixture
def runner(settings, monkeypatch):
    monkeypatch.setattr(pool, "execute", logged_job)  # looked up at each schedule, pickled by name
    init_db(context_for(settings).engine)
    r = jobs.JobRunner(settings)  # settings: one worker
    yield r
    r.close()


def starts(settings) -> list[str]:
    path = settings.data_dir / "starts.log"
    return path.read_text().split() if path.exists() else []


def wait_all(settings, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(context_for(settings).engine) as s:
            if not s.exec(select(Cloth3D).where(Cloth3D.status == "processing")).first():
                return
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_another_owner_waits_for_at_most_one_job_of_a_backlog(settings, runner) -> None:
    backlog = [add(settings, id=f"a{i:02d}", user_id="A") for i in range(10)]
    for job_id in backlog:
        runner.submit(Cloth3D, job_id, 30, owner="A")
    runner.submit(Cloth3D, add(settings, id="b", user_id="B"), 30, owner="B")
    assert runner.scheduled == 1  # the pool holds one job per worker, never a backlog
    wait_all(settings)
    order = starts(settings)
    assert order.index("b") <= 1, order  # after the job A already had running, at most
    assert [j for j in order if j != "b"] == backlog  # each owner's jobs in the order they came
    assert runner.active == {} and runner.owners == {} and runner.scheduled == 0


def test_owners_take_turns(settings, runner) -> None:
    for owner in "AB":
        for i in range(3):
            runner.submit(Cloth3D, add(settings, id=f"{owner}{i}"), 30, owner=owner)
    wait_all(settings)
    assert starts(settings) == ["A0", "B0", "A1", "B1", "A2", "B2"]


def test_close_ends_running_and_queued_jobs(settings, runner) -> None:
    ids = [add(settings, id=f"slow{i}") for i in range(5)]
    for job_id in ids:
        runner.submit(Cloth3D, job_id, 30, owner="A")
    runner.close()
    for job_id in ids:  # no waiting: close() has settled every job, the queued ones too
        job = row(settings, job_id)
        assert job.status == "error" and job.log == INTERRUPTED, job
    late = add(settings)
    with pytest.raises(Unavailable, match="stopping"):
        runner.submit(Cloth3D, late, 30, owner="A")
    assert row(settings, late).status == "error"


# -- warm workers: nobody's first job waits for imports or bodies ----------------------------------
def cached_bodies() -> int:
    """Run in a worker: how many prepared bodies it holds."""
    from core.jobs.fitting import _body

    return _body.cache_info().currsize


def wait_warm(runner: jobs.JobRunner, starts: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while runner.health() != "ok" or runner.warmed < starts:
        assert time.monotonic() < deadline, runner.health()
        time.sleep(0.1)


@pytest.mark.slow
def test_workers_warm_at_start_and_after_a_restart(tmp_path) -> None:
    """Started with the presets seeded, a worker holds their prepared bodies before health says ok;
    one that replaces a worker stopped past its time limit warms again before it takes a job.
    (SQLite only: no `settings` fixture, which would run it on PostgreSQL too.)"""
    from core.config import Settings
    from core.service import FitroomService

    settings = Settings(data_dir=tmp_path / "data", job_workers=1)
    runner = jobs.JobRunner(settings)
    try:
        FitroomService(context_for(settings), runner).start()  # seeds the three presets
        assert runner.health() == "warming: 0 of 1 workers ready"
        runner.start()
        wait_warm(runner, 1)
        assert runner.pool.schedule(cached_bodies).result(timeout=30) == 3
        with pytest.raises(FutureTimeout):  # the worker is stopped, pebble starts another
            runner.pool.schedule(time.sleep, args=(30,), timeout=0.5).result(timeout=60)
        assert runner.pool.schedule(cached_bodies).result(timeout=180) == 3  # warmed before it ran this
        wait_warm(runner, 2)
    finally:
        runner.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's niceness is Linux's")
def test_what_follows_a_done_job_runs_at_a_lower_priority_and_the_worker_keeps_its_own() -> None:
    """The extras yield the CPU to the server showing the job and to the next jobs; the worker
    itself (which could not lower its niceness again) is left as it was, and the job's log
    context and a failure still reach it."""
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen: list[tuple[int, str | None]] = []

    def then() -> None:
        line = JsonFormatter().format(logging.LogRecord("fitroom.jobs", logging.INFO, "", 0, "extras", None, None))
        seen.append((os.getpriority(os.PRIO_PROCESS, threading.get_native_id()), json.loads(line).get("job_id")))

    with job_context("j1"):
        at_low_priority(then)
    assert seen == [(min(before + NICER, 19), "j1")]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before
    with pytest.raises(KeyError):
        at_low_priority(lambda: {}["missing"])
