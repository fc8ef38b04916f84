"""ZeroGPU by its contract, with the real `spaces` package in its ZeroGPU mode (tests/zerogpu.py):
the app started as a Space starts it, the GPU function registered at start-up, called from the
visitor's request in the serving process, and the job run to a garment (tiny weights, ML_DEVICE=cpu)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
import requests
from gradio_client import Client, handle_file

from benchmarks.ml_models import build_all
from core import gpu
from tests.conftest import ROOT, SUITE_QUOTAS, auth_headers, free_port, photo_bytes, wait_http
from tests.zerogpu import FakeDeviceAPI


def test_without_zerogpu_nothing_is_patched(monkeypatch) -> None:
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)

    def f(x: int) -> int:
        return x + 1

    assert not gpu.zero_gpu() and gpu.zero_gpu({"SPACES_ZERO_GPU": "true"})
    assert gpu.activate() is False and not gpu.active()
    assert gpu.gpu(duration=lambda x: 10)(f) is f and not gpu.is_decorated(f)


def test_activate_imports_spaces_and_passes_the_dynamic_duration(monkeypatch) -> None:
    asked = []
    fake = types.ModuleType("spaces")
    fake.GPU = lambda duration: (asked.append(duration), lambda fn: ("on-gpu", fn))[1]
    monkeypatch.setitem(sys.modules, "spaces", fake)
    monkeypatch.setattr(gpu, "_spaces", None)
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    assert gpu.activate() and gpu.active()

    def seconds(task) -> int:
        return task

    def f(task):
        return task

    assert gpu.gpu(duration=seconds)(f) == ("on-gpu", f) and asked == [seconds]


def test_app_imports_spaces_before_torch(tmp_path) -> None:
    """On a ZeroGPU Space `python app.py` imports `spaces` first, before torch and Gradio (a
    stand-in `spaces` reports what was imported, then stops the app)."""
    (tmp_path / "spaces").mkdir()
    (tmp_path / "spaces" / "__init__.py").write_text(
        "import json, sys\nprint(json.dumps({m: m in sys.modules for m in ('torch', 'gradio')}))\nsys.exit(3)\n")
    env = os.environ | {"SPACES_ZERO_GPU": "true", "PYTHONPATH": str(tmp_path), "DATA_DIR": str(tmp_path / "d")}
    out = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 3, out.stderr
    assert json.loads(out.stdout.splitlines()[-1]) == {"torch": False, "gradio": False}


def visitor_token(user: str) -> str:
    """An X-IP-Token as the Hub's proxy adds it to a visitor's requests (a JWT; ZeroGPU reads its payload)."""
    payload = base64.urlsafe_b64encode(json.dumps({"user": user}).encode()).decode().rstrip("=")
    return f"e30.{payload}.sig"


def parent_pid(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))


@pytest.mark.slow
def test_a_zerogpu_space_runs_the_gpu_call_from_the_visitors_request(tmp_path_factory) -> None:
    tmp = tmp_path_factory.mktemp("zerogpu")
    models = build_all(tmp / "models")
    (tmp / "cgroup").write_text("0::/fitroom-test\n")
    api = FakeDeviceAPI()
    port = free_port()
    env = os.environ | SUITE_QUOTAS | {
        "SPACE_ID": "user/fitroom", "SPACES_ZERO_GPU": "true", "SPACES_ZERO_DEVICE_API_URL": api.url,
        "ZEROGPU_OFFLOAD_DIR": str(tmp / "offload"), "ZEROGPU_PROC_SELF_CGROUP_PATH": str(tmp / "cgroup"),
        "ML_DEVICE": "cpu", "MODEL_PATH": str(models), "ML_STEPS_LOW": "2", "ML_STEPS_MED": "3",
        "HOST": "127.0.0.1", "PORT": str(port), "DATA_DIR": str(tmp / "data"), "JOB_WORKERS": "1",
        "LOG_LEVEL": "INFO"}
    log = open(tmp / "app.log", "w")  # noqa: SIM115 - the server's own log, read when a check fails
    proc = subprocess.Popen([sys.executable, "tests/zerogpu.py"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/healthz", timeout=300, proc=proc)
        # At launch ZeroGPU found a decorated function (it reports only then), and REST is served too.
        assert len(api.calls.get("/startup-report", [])) == 1, (tmp / "app.log").read_text()[-3000:]
        assert requests.get(base + "/healthz", timeout=10).status_code == 200
        photo = tmp / "tee.jpg"
        photo.write_bytes(photo_bytes("top"))
        token = visitor_token("visitor")
        client = Client(base, verbose=False, headers=auth_headers(base) | {"x-ip-token": token})
        cloth = client.predict(handle_file(str(photo)), api_name="/upload_image")
        done = []
        for model, quality in (("zero123+instantmesh", "low"), ("auto", "med")):
            job = client.predict(cloth["id"], model, quality, api_name="/generate_3d")
            deadline = time.monotonic() + 300
            while job["status"] == "processing" and time.monotonic() < deadline:
                time.sleep(0.5)
                job = client.predict(job["id"], api_name="/get_result")
            assert job["status"] == "done", (job, (tmp / "app.log").read_text()[-3000:])
            done.append(job)
        first, second = (j["stats"]["gpu"] for j in done)
        assert done[1]["model_used"] == "zero123+instantmesh" and "loaded at start-up, on cpu" in done[1]["log"]
        # The GPU call ran through ZeroGPU, in a process forked from the serving process, with the
        # models the serving process loaded at start-up (2 loads, none in the call's process).
        assert first["zero_gpu"] and first["process"] != proc.pid and parent_pid(first["process"]) == proc.pid
        assert first["model_loads"] == second["model_loads"] == 2
        schedules = api.calls["/schedule"]
        assert [s["token"] for s in schedules] == [token, token]  # the visitor's quota, from the request
        assert [s["durationSeconds"] for s in schedules] == ["30", "60"]  # the quality's own duration
        assert schedules[0]["taskId"] == schedules[1]["taskId"]  # one function, decorated once at import
        assert [a["pid"] for a in api.calls["/allow"]] == [str(first["process"])] * len(api.calls["/allow"])
        assert len(api.calls["/release"]) == 2
    finally:
        proc.terminate()
        proc.wait(30)
        api.close()
        log.close()
