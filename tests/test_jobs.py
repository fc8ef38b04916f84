"""`execute`, the one entry every runner uses: a job is claimed in the DB before it runs, a job that
ended is never run again, and a job whose worker died twice ends as an error."""

from __future__ import annotations

import pytest

from core import jobs
from core.context import context_for
from core.db import init_db, session_scope
from core.models import Cloth3D

pytestmark = pytest.mark.both_dbs


@pytest.fixture
def ran(settings, monkeypatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setitem(jobs.JOB_FUNCTIONS, Cloth3D, lambda _settings, job_id: calls.append(job_id))
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
