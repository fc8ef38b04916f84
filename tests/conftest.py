"""Shared fixtures: isolated settings, drawn photos, real servers on 127.0.0.1 (moto S3, the app)."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from core.config import Settings
from core.samples import draw_garment

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 120.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not come up in {timeout} s")


def photo_bytes(category: str = "top", fmt: str = "JPEG", **kwargs) -> bytes:
    img, _ = draw_garment(category, **kwargs)
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", job_workers=1)


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory) -> Iterator[str]:
    """moto's standalone S3 server in its own process, on loopback."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/moto-api/", proc=proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def start_app(data_dir: Path, extra_env: dict[str, str] | None = None, port: int | None = None,
              new_session: bool = False) -> tuple[subprocess.Popen, str]:
    """`python app.py` on loopback; `new_session` puts it and its workers in their own process group."""
    port = port or free_port()
    env = os.environ | {"DATA_DIR": str(data_dir), "PORT": str(port), "HOST": "127.0.0.1",
                        "JOB_WORKERS": "2", "LOG_LEVEL": "WARNING"} | (extra_env or {})
    log = open(data_dir.parent / f"app-{port}.log", "a")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=new_session)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/healthz", proc=proc)
    return proc, base


@pytest.fixture(scope="session")
def live_app_dir(tmp_path_factory) -> Path:
    """The data folder of `live_app` (tests look at its database and objects)."""
    data = tmp_path_factory.mktemp("app") / "data"
    data.mkdir()
    return data


@pytest.fixture(scope="session")
def live_app(live_app_dir: Path) -> Iterator[str]:
    """The real app (`python app.py`) on a free port with its own data folder."""
    proc, base = start_app(live_app_dir)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(20)
