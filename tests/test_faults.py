"""Faults: a process killed mid-job, object storage that goes away and comes back, a full disk,
a thumbnail that cannot be drawn. Nothing stays `processing`, nothing is half stored, every error
says what happened. (A job past its time limit: tests/test_service.py.)"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import pathlib
import signal
import socket
import socketserver
import sqlite3
import tempfile
import threading
import time
import uuid
from pathlib import Path

import boto3
import pytest
import requests
from gradio_client import Client, handle_file
from sqlmodel import select

import core.pipeline
from core.context import context_for
from core.db import session_scope
from core.errors import Unavailable
from core.models import Cloth
from core.service import FitroomService
from core.tasks import run_fit, run_generate
from tests.conftest import AsCaller, authed_session, free_port, new_caller, photo_bytes, start_app
from tests.test_importer import exported, garment
from tests.test_service import service, stored_objects  # noqa: F401 - the service fixture

ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


# -- SIGKILL mid-job ------------------------------------------------------------------------------
def job_states(data_dir: Path) -> dict[str, tuple[str, str | None]]:
    with sqlite3.connect(f"file:{data_dir / 'fitroom.db'}?mode=ro", uri=True) as db:
        return {i: (s, log) for t in ("cloth3d", "fittingsession")
                for i, s, log in db.execute(f"SELECT id, status, log FROM {t}")}


@pytest.mark.slow
def test_sigkill_mid_job_leaves_nothing_processing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    proc, base = start_app(data, new_session=True)
    http = authed_session(base)
    restarted = None
    try:
        cloth = http.post(base + "/clothes/upload-image", files={"file": ("t.jpg", photo_bytes())},
                              timeout=30).json()
        top = http.post(base + "/clothes3d/import", files={"file": ("t.glb", exported(garment("top"), "glb"))},
                            timeout=60).json()
        preset = http.get(base + "/avatar-presets", timeout=10).json()[0]["id"]
        jobs = [http.post(base + "/fit", json={"cloth3d_id": top["id"], "avatar_preset_id": preset},
                              timeout=10).json()["id"] for _ in range(3)]
        jobs += [http.post(f"{base}/clothes/{cloth['id']}/generate-3d", json={"quality": "med"},
                               timeout=10).json()["id"] for _ in range(3)]
        deadline = time.monotonic() + 30
        while all(_stage(base, j) == "queued" for j in jobs):  # until a worker has really started one
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        restarted, base = start_app(data)
        states = job_states(data)
        assert set(jobs) <= set(states)
        assert not [j for j, (s, _) in states.items() if s == "processing"], states
        interrupted = [j for j in jobs if states[j][0] == "error"]
        assert interrupted, "every job finished before the kill: nothing was tested"
        assert all("interrupted" in states[j][1] for j in interrupted), states
        r = http.get(f"{base}/clothes3d/{top['id']}", timeout=10)
        assert r.json()["status"] == "done"  # finished work survives the crash
        again = http.post(f"{base}/clothes/{cloth['id']}/generate-3d", json={}, timeout=10).json()
        deadline = time.monotonic() + 60
        while (job := http.get(f"{base}/clothes3d/{again['id']}", timeout=10).json())["status"] == "processing":
            assert time.monotonic() < deadline
            time.sleep(0.3)
        assert job["status"] == "done", job["log"]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the killed app and its orphaned workers, if any are left
        proc.wait(10)
        if restarted is not None:
            restarted.terminate()
            restarted.wait(30)


def _stage(base: str, job_id: str) -> str | None:
    for path in (f"/clothes3d/{job_id}", f"/session/{job_id}/result"):
        r = requests.get(base + path, timeout=10)
        if r.status_code == 200:
            return r.json()["stage"]
    return None


# -- object storage unreachable -------------------------------------------------------------------
class Gate:
    """A TCP forwarder on loopback in front of S3 that can be shut and opened again on the same port:
    storage that goes away (connections refused, open ones cut) and comes back with its data."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port = target, free_port()
        self.server: socketserver.ThreadingTCPServer | None = None
        self.conns: set[socket.socket] = set()

    def open(self) -> None:
        gate = self

        class Pipe(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                upstream = socket.create_connection(gate.target)
                gate.conns |= {self.request, upstream}
                t = threading.Thread(target=_pump, args=(upstream, self.request), daemon=True)
                t.start()
                _pump(self.request, upstream)
                t.join()

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Pipe)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def shut(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        for conn in list(self.conns):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self.conns.clear()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


@pytest.mark.slow
def test_s3_unreachable_then_back(moto_endpoint: str, tmp_path: Path) -> None:
    host, port = moto_endpoint.removeprefix("http://").split(":")
    gate = Gate((host, int(port)))
    gate.open()
    bucket = f"faults-{uuid.uuid4().hex[:10]}"
    data = tmp_path / "data"
    data.mkdir()
    proc, base = start_app(data, {"S3_ENDPOINT": f"http://127.0.0.1:{gate.port}", "S3_KEY": "k", "S3_SECRET": "s",
                                  "S3_BUCKET": bucket})
    http = authed_session(base)
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, aws_access_key_id="k", aws_secret_access_key="s",
                      region_name="us-east-1")
    try:
        photo = tmp_path / "t.jpg"
        photo.write_bytes(photo_bytes())
        first = http.post(base + "/clothes/upload-image", files={"file": ("t.jpg", photo.read_bytes())},
                              timeout=30)
        assert first.status_code == 201 and first.json()["image_url"].startswith(f"http://127.0.0.1:{gate.port}/")

        gate.shut()
        r = http.post(base + "/clothes/upload-image", files={"file": ("t.jpg", photo.read_bytes())}, timeout=60)
        assert r.status_code == 503 and "object storage" in r.json()["detail"], r.text
        with pytest.raises(Exception, match="object storage"):
            Client(base, verbose=False, headers=dict(http.headers)).predict(handle_file(str(photo)),
                                                                            api_name="/upload_image")
        health = http.get(base + "/healthz", timeout=60)
        assert health.status_code == 503 and health.json()["checks"]["database"] == "ok"
        assert health.json()["checks"]["storage"].startswith("failed: object storage is unreachable")
        job = http.post(f"{base}/clothes/{first.json()['id']}/generate-3d", json={}, timeout=30).json()
        deadline = time.monotonic() + 90
        while (job := http.get(f"{base}/clothes3d/{job['id']}", timeout=10).json())["status"] == "processing":
            assert time.monotonic() < deadline
            time.sleep(0.3)
        assert job["status"] == "error" and "object storage" in job["log"]  # a clear error, not a hang

        gate.open()
        assert http.get(base + "/healthz", timeout=30).status_code == 200
        again = http.post(base + "/clothes/upload-image", files={"file": ("t.jpg", photo.read_bytes())},
                              timeout=30)
        assert again.status_code == 201

        with sqlite3.connect(f"file:{data / 'fitroom.db'}?mode=ro", uri=True) as db:
            keys = {k for (k,) in db.execute("SELECT image_key FROM cloth")}
        objects = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="clothes/").get("Contents", [])}
        assert keys == objects == {f"clothes/{first.json()['id']}/photo.jpg", f"clothes/{again.json()['id']}/photo.jpg"}
    finally:
        proc.terminate()
        proc.wait(30)
        gate.shut()


# -- a full disk ----------------------------------------------------------------------------------
def test_full_temp_disk_is_a_clear_error(service, monkeypatch) -> None:  # noqa: F811
    class FullDisk(tempfile.SpooledTemporaryFile):
        def write(self, data):
            raise ENOSPC

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", FullDisk)
    with pytest.raises(Unavailable, match="No space left on device"):
        service.upload_image(io.BytesIO(photo_bytes()), "t.jpg")
    with pytest.raises(Unavailable, match="try again later"):
        service.upload_garment_3d(io.BytesIO(b"v 0 0 0\n"), "g.obj")
    with session_scope(service.ctx.engine) as s:
        assert s.exec(select(Cloth)).all() == []
    assert stored_objects(service) == []


def test_full_storage_disk_is_a_clear_error(service, monkeypatch) -> None:  # noqa: F811
    real_write = pathlib.Path.write_bytes

    def write_bytes(self, data):
        if self.name.endswith(".part"):
            raise ENOSPC
        return real_write(self, data)

    monkeypatch.setattr(pathlib.Path, "write_bytes", write_bytes)
    with pytest.raises(Unavailable, match="local storage write failed: No space left on device"):
        service.upload_image(io.BytesIO(photo_bytes()), "t.jpg")
    with session_scope(service.ctx.engine) as s:
        assert s.exec(select(Cloth)).all() == []
    assert not list(service.ctx.settings.objects_dir.rglob("*.part"))


# -- a thumbnail that cannot be drawn -------------------------------------------------------------
class _Held:
    """A runner that keeps jobs, so that the test runs them here, where its patches apply."""

    def __init__(self) -> None:
        self.jobs: list[str] = []

    def submit(self, _table, job_id: str, _timeout: float, owner: str | None = None, gpu_job: bool = False) -> None:
        self.jobs.append(job_id)


def test_failing_thumbnail_does_not_fail_the_job(settings, monkeypatch) -> None:
    def broken(*_args, **_kw):
        raise RuntimeError("no ray tracer today")

    monkeypatch.setattr(core.pipeline.export, "render", broken)
    svc = FitroomService(context_for(settings), _Held())
    svc.start()
    svc = AsCaller(svc, new_caller(svc))
    cloth = svc.upload_image(io.BytesIO(photo_bytes()), "t.jpg")
    job = svc.generate_3d(cloth["id"], "silhouette", "low")
    run_generate(settings, job["id"])
    job = svc.get_result(job["id"])
    assert job["status"] == "done", job["log"]
    assert job["thumb_url"] is None and job["glb_url"] and job["stats"]["thumb_bytes"] == 0
    session = svc.fit(job["id"], svc.list_presets()[0]["id"])
    run_fit(settings, session["id"])
    session = svc.get_result(session["id"])
    assert session["status"] == "done", session["log"]
    assert session["thumb_url"] is None and session["fitted_glb_url"]


def test_a_garment_says_whether_its_extras_are_coming(settings, monkeypatch) -> None:
    """The OBJ zip and turntable follow a finished garment: its record says pending, then done —
    or error when they failed, so that no client waits for them for ever."""
    from core.jobs import garment as garment_job

    svc = FitroomService(context_for(settings), _Held())
    svc.start()
    svc = AsCaller(svc, new_caller(svc))
    cloth = svc.upload_image(io.BytesIO(photo_bytes()), "t.jpg")
    made = garment_job.add_extras
    monkeypatch.setattr(garment_job, "add_extras", lambda *a: None)  # the garment done, its extras not yet
    job = svc.generate_3d(cloth["id"], "silhouette", "low")
    assert job["extras"] is None  # not finished: nothing to say yet
    run_generate(settings, job["id"])
    assert svc.get_result(job["id"])["extras"] == "pending"

    def broken(*_args, **_kw):
        raise RuntimeError("no GIF today")

    monkeypatch.setattr(garment_job, "add_extras", made)
    monkeypatch.setattr(garment_job, "garment_extras", broken)
    failed = svc.generate_3d(cloth["id"], "silhouette", "low")
    run_generate(settings, failed["id"])
    failed = svc.get_result(failed["id"])
    assert failed["status"] == "done" and failed["extras"] == "error" and failed["turntable_url"] is None
    monkeypatch.setattr(garment_job, "garment_extras", core.pipeline.garment_extras)
    fine = svc.generate_3d(cloth["id"], "silhouette", "low")
    run_generate(settings, fine["id"])
    assert svc.get_result(fine["id"])["extras"] == "done"


def test_a_fitting_says_whether_its_thumbnail_is_coming(settings, monkeypatch) -> None:
    """A fitting is done (and shown) before its thumbnail is drawn: pending, then done with its
    thumb_url; a thumbnail that could not be stored is an error, the fitting stays done."""
    from core.jobs import fitting

    svc = FitroomService(context_for(settings), _Held())
    svc.start()
    svc = AsCaller(svc, new_caller(svc))
    garment = svc.generate_3d(svc.upload_image(io.BytesIO(photo_bytes()), "t.jpg")["id"], "silhouette", "low")
    run_generate(settings, garment["id"])
    preset = svc.list_presets()[0]["id"]
    made = fitting.add_fit_extras
    monkeypatch.setattr(fitting, "add_fit_extras", lambda *a: None)
    session = svc.fit(garment["id"], preset)
    assert session["extras"] is None
    run_fit(settings, session["id"])
    session = svc.get_result(session["id"])
    assert session["status"] == "done" and session["extras"] == "pending" and session["thumb_url"] is None
    assert "thumbnail" not in session["timings"]  # nobody waited for it

    monkeypatch.setattr(fitting, "add_fit_extras", made)
    fine = svc.fit(garment["id"], preset)
    run_fit(settings, fine["id"])
    fine = svc.get_result(fine["id"])
    assert fine["extras"] == "done" and fine["thumb_url"] and "thumbnail" in fine["timings"]

    def broken(*_args, **_kw):
        raise RuntimeError("disk full")

    monkeypatch.setattr(fitting, "fitted_thumbnail", broken)
    failed = svc.fit(garment["id"], preset)
    run_fit(settings, failed["id"])
    failed = svc.get_result(failed["id"])
    assert failed["status"] == "done" and failed["extras"] == "error" and failed["fitted_glb_url"]
