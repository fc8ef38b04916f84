"""A dedicated CUDA machine (the Docker image, a GPU Space): GPU jobs run in a lane of their own,
one process holding the models for job after job, CPU jobs beside it, never behind it; a GPU job
past its time limit has its process stopped, and the next GPU job runs in a fresh one. Tiny
weights on the CPU (ML_DEVICE=cpu) stand in for the real ones."""

from __future__ import annotations

import io
import os
import time

import pytest

from benchmarks.ml_models import build_all
from core.config import Settings
from core.tasks import GENERATE_STAGES
from tests.conftest import photo_bytes
from tests.test_service import make_service, wait

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    return build_all(tmp_path_factory.mktemp("models"))


def lane_settings(tmp_path, root, **kw) -> Settings:
    return Settings(**{"data_dir": tmp_path / "data", "model_path": root, "ml_device": "cpu", "gpu_concurrency": 1,
                       "ml_steps_low": 2, "ml_steps_med": 2} | kw)


def wait_stage(service, job_id: str, stages: set[str], timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while (job := service.get_result(job_id))["status"] == "processing" and job.get("stage") not in stages:
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    return job


def test_gpu_jobs_share_one_loaded_model(tmp_path, tiny_root) -> None:
    service = make_service(lane_settings(tmp_path, tiny_root, job_workers=2))
    try:
        cloth = service.upload_image(io.BytesIO(photo_bytes("top")), "tee.jpg")
        ids = [service.generate_3d(cloth["id"], "zero123+instantmesh", "low")["id"] for _ in range(2)]
        cpu = wait(service, service.generate_3d(cloth["id"], "silhouette", "low")["id"], timeout=120)
        jobs = [wait(service, i, timeout=300) for i in ids]
        assert [j["status"] for j in jobs] == ["done", "done"], jobs
        first, second = (j["stats"]["gpu"] for j in jobs)
        assert first["process"] == second["process"] != os.getpid()  # the GPU lane's one process…
        assert first["model_loads"] == second["model_loads"] == 2  # …loaded both models once, for both jobs
        assert cpu["status"] == "done" and "gpu" not in cpu["stats"]  # CPU workers never load them
    finally:
        service.runner.close()


def test_a_cpu_job_does_not_wait_behind_a_gpu_job_and_a_stopped_one_frees_its_process(tmp_path, tiny_root) -> None:
    # One CPU worker and one GPU process; `low` runs 200 diffusion steps, `med` 2. The slow job's time
    # limit is scaled to this machine: twice a warm 2-step job, while 200 steps take about five
    # times one (a fixed limit raced the machine's speed: a fast one finished the slow job in time).
    service = make_service(lane_settings(tmp_path, tiny_root, job_workers=1, ml_steps_low=200))
    settings = service.ctx.settings
    try:
        cloth = service.upload_image(io.BytesIO(photo_bytes("top")), "tee.jpg")
        warm = wait(service, service.generate_3d(cloth["id"], "silhouette", "low")["id"], timeout=120)
        assert warm["status"] == "done", warm  # the CPU worker too has taken a job
        fast = wait(service, service.generate_3d(cloth["id"], "zero123+instantmesh", "med")["id"], timeout=300)
        assert fast["status"] == "done", fast
        held = fast["stats"]["gpu"]["process"]
        began = time.monotonic()
        assert wait(service, service.generate_3d(cloth["id"], "zero123+instantmesh", "med")["id"])["status"] == "done"
        limit = round(max(3.0, 2 * (time.monotonic() - began)), 1)
        settings.generate_timeout_s = limit  # an operator's setting, read as each job is queued
        slow = service.generate_3d(cloth["id"], "zero123+instantmesh", "low")["id"]
        settings.generate_timeout_s = 300.0
        assert wait_stage(service, slow, {"multi-view"})["status"] == "processing"
        cpu = service.generate_3d(cloth["id"], "silhouette", "low")["id"]
        assert wait_stage(service, cpu, set(GENERATE_STAGES) - {"queued"})["status"] == "processing"
        assert service.get_result(slow)["status"] == "processing"  # the CPU job started beside it, not behind it
        assert wait(service, cpu)["status"] == "done"
        stopped = wait(service, slow, timeout=120)
        assert stopped["status"] == "error" and f"timed out after {limit:g} s" in stopped["log"], stopped
        with pytest.raises(ProcessLookupError):  # the process that held the models is gone, its memory with it
            os.kill(held, 0)
        after = wait(service, service.generate_3d(cloth["id"], "zero123+instantmesh", "med")["id"], timeout=300)
        assert after["status"] == "done" and after["stats"]["gpu"]["process"] not in (held, os.getpid())
    finally:
        service.runner.close()
