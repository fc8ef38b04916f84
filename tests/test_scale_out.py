"""Scale-out for real: the API (`python app.py`, WORKER=celery) and two `celery worker` processes on a
Redis server, PostgreSQL and S3 (moto), all on 127.0.0.1. 20 generate + 20 fit jobs through REST all
end done, each started once; a worker killed mid-job leaves no job processing; throughput is printed
beside the inline pool's on the same backends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from core.context import context_for
from core.db import init_db, session_scope
from core.models import Cloth3D
from tests.conftest import ROOT, authed_session, new_pg_database, photo_bytes, start_app

pytestmark = pytest.mark.slow
N = 20


def backend_env(tmp: Path, postgres_server: str, moto_endpoint: str, redis_url: str) -> dict[str, str]:
    return {"DB_URL": new_pg_database(postgres_server), "S3_ENDPOINT": moto_endpoint, "S3_KEY": "k",
            "S3_SECRET": "s", "S3_BUCKET": f"b-{tmp.name.lower()[-20:]}", "REDIS_URL": redis_url,
            "GENERATE_TIMEOUT_S": "20", "FIT_TIMEOUT_S": "20", "QUEUE_VISIBILITY_S": "25",
            "STALL_AFTER_S": "120"}


def start_worker(name: str, data_dir: Path, env: dict[str, str]) -> subprocess.Popen:
    data_dir.mkdir(parents=True, exist_ok=True)
    log = open(data_dir.parent / f"{name}.log", "w")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "core.celery_app", "worker", "--concurrency", "1",
         "-n", f"{name}@127.0.0.1", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=os.environ | env | {"DATA_DIR": str(data_dir), "WORKER": "celery", "LOG_LEVEL": "INFO"},
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # its own group: killed as one


def wait_ready(proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while "ready" not in log.read_text():
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.3)


def wait_all(http: requests.Session, base: str, paths: list[str], timeout: float = 240) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        jobs = [http.get(base + p, timeout=10).json() for p in paths]
        if all(j["status"] != "processing" for j in jobs):
            return jobs
        assert time.monotonic() < deadline, [j for j in jobs if j["status"] == "processing"]
        time.sleep(0.5)


def push_jobs(base: str) -> tuple[list[dict], float]:
    """20 generate jobs, then a fit of each garment; returns the jobs and jobs per minute."""
    http = authed_session(base)
    cloth = http.post(base + "/clothes/upload-image", files={"file": ("t.jpg", photo_bytes("top"))},
                      timeout=30).json()
    preset = http.get(base + "/avatar-presets", timeout=30).json()[0]
    t0 = time.perf_counter()
    gens = [http.post(base + f"/clothes/{cloth['id']}/generate-3d", json={"model": "silhouette"},
                      timeout=30).json() for _ in range(N)]
    gens = wait_all(http, base, [f"/clothes3d/{g['id']}" for g in gens])
    assert [g["status"] for g in gens] == ["done"] * N, [g["log"] for g in gens]
    fits = [http.post(base + "/fit", json={"cloth3d_id": g["id"], "avatar_preset_id": preset["id"]},
                      timeout=30).json() for g in gens]
    fits = wait_all(http, base, [f"/session/{f['id']}/result" for f in fits])
    assert [f["status"] for f in fits] == ["done"] * N, [f["log"] for f in fits]
    return gens + fits, 2 * N / ((time.perf_counter() - t0) / 60)


def attempts(db_url: str) -> dict[str, int]:
    engine = create_engine(db_url)
    with engine.connect() as c:
        rows = c.execute(text("SELECT id, attempts FROM cloth3d UNION ALL SELECT id, attempts FROM fittingsession"))
        out = dict(rows.all())
    engine.dispose()
    return out


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, postgres_server, moto_endpoint, redis_url) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("scale")
    env = backend_env(tmp, postgres_server, moto_endpoint, redis_url)
    (tmp / "api").mkdir()
    api, base = start_app(tmp / "api", env | {"WORKER": "celery"})
    workers = [start_worker(f"w{i}", tmp / f"w{i}", env) for i in range(2)]
    try:
        for i, w in enumerate(workers):
            wait_ready(w, tmp / f"w{i}.log")
        yield {"base": base, "env": env, "workers": workers, "tmp": tmp}
    finally:
        for p in [api, *workers]:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM) if p in workers else p.terminate()
                p.wait(30)


def test_celery_jobs_each_run_once_faster_than_inline(cluster, tmp_path, postgres_server, moto_endpoint,
                                                      redis_url) -> None:
    jobs, celery_rate = push_jobs(cluster["base"])
    counts = attempts(cluster["env"]["DB_URL"])
    assert all(counts[j["id"]] == 1 for j in jobs), "a job was started more than once"
    env = backend_env(tmp_path, postgres_server, moto_endpoint, redis_url)
    (tmp_path / "inline").mkdir()
    api, base = start_app(tmp_path / "inline", env | {"WORKER": "inline", "JOB_WORKERS": "2"})
    try:
        _, inline_rate = push_jobs(base)
    finally:
        api.terminate()
        api.wait(30)
    print(f"\nthroughput, 20 generate + 20 fit jobs through REST: celery (2 workers) {celery_rate:.1f} "
          f"jobs/min, inline (JOB_WORKERS=2) {inline_rate:.1f} jobs/min")
    assert celery_rate > 0 and inline_rate > 0


def test_killed_worker_leaves_no_job_processing(cluster) -> None:
    base, victim = cluster["base"], cluster["workers"][0]
    http = authed_session(base)
    cloth = http.post(base + "/clothes/upload-image", files={"file": ("t.jpg", photo_bytes("dress"))},
                      timeout=30).json()
    gens = [http.post(base + f"/clothes/{cloth['id']}/generate-3d", json={"model": "silhouette"},
                      timeout=30).json() for _ in range(6)]
    deadline = time.monotonic() + 60
    while not any(http.get(base + f"/clothes3d/{g['id']}", timeout=10).json()["stage"] not in ("queued", "done")
                  for g in gens):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(victim.pid, signal.SIGKILL)  # the worker and its pool process, mid-job
    victim.wait(10)
    jobs = wait_all(http, base, [f"/clothes3d/{g['id']}" for g in gens], timeout=150)
    assert [j["status"] for j in jobs] == ["done"] * len(gens), [j["log"] for j in jobs]
    counts = [attempts(cluster["env"]["DB_URL"])[g["id"]] for g in gens]
    assert max(counts) <= 2 and sum(counts) - len(gens) <= 1, counts  # only the killed job was restarted
    print(f"\nafter killing a worker mid-job: {len(gens)} jobs done, starts per job {counts}")


def test_hard_time_limit_ends_the_job(settings, monkeypatch) -> None:
    """Celery calls `on_failure` with TimeLimitExceeded after killing a job past its hard limit; the
    task writes with the settings its app was made with."""
    from celery.exceptions import TimeLimitExceeded

    from core.jobs import TASK_NAME
    from core.jobs.celery import make_celery

    ctx = context_for(settings)
    init_db(ctx.engine)
    with session_scope(ctx.engine) as s:
        s.add(Cloth3D(id="late-job", cloth_id="c", stage="started"))
        s.commit()
    task = make_celery(settings).tasks[TASK_NAME]
    task.on_failure(TimeLimitExceeded(20.0), "task-id", ("cloth3d", "late-job"), {}, None)
    with session_scope(ctx.engine) as s:
        row = s.get(Cloth3D, "late-job")
    assert row.status == "error" and row.log == "timed out after 20 s and was stopped"
