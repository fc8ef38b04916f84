"""Load on the running app (bounded: about a minute on 2 cores, 127.0.0.1 only).

50 concurrent photo uploads, then 10 generate and 10 fit jobs at once, half through REST and half
through gradio_client, while a prober times the light calls. Every request must succeed, every job
end `done`, and the database must hold exactly the rows made: none lost, none twice.

Run twice (`both_dbs`): on SQLite (WAL, busy timeout) and on a fresh PostgreSQL database.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from gradio_client import Client, handle_file
from sqlalchemy import create_engine, func, select

from core.models import Cloth, Cloth3D, FittingSession
from tests.conftest import auth_headers, photo_bytes, running_app
from tests.test_importer import exported, garment

pytestmark = pytest.mark.slow
UPLOADS, GENERATES, FITS = 50, 10, 10
TABLES = (Cloth, Cloth3D, FittingSession)


@pytest.fixture
def load_db_url(db_url: str, tmp_path: Path) -> str:
    """The database the app under load uses: SQLite (the default file) or a fresh PostgreSQL one."""
    return db_url or f"sqlite:///{tmp_path / 'data' / 'fitroom.db'}"


@pytest.fixture
def load_app(load_db_url: str, tmp_path: Path) -> Iterator[str]:
    with running_app(tmp_path / "data", {"DB_URL": load_db_url, "JOB_WORKERS": "2"}) as base:
        yield base


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {t.__tablename__: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES}
    finally:
        engine.dispose()


class Prober(threading.Thread):
    """Times the light calls, round after round, until stopped."""

    def __init__(self, calls: dict[str, Callable[[], object]]) -> None:
        super().__init__(daemon=True)
        self.calls, self.times = calls, {name: [] for name in calls}
        self.failures: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for name, call in self.calls.items():
                t0 = time.perf_counter()
                try:
                    call()
                except Exception as exc:  # noqa: BLE001 - a failure is counted and reported
                    self.failures.append(f"{name}: {exc}")
                self.times[name].append(time.perf_counter() - t0)
            time.sleep(0.05)

    def report(self) -> dict[str, tuple[int, float, float]]:
        out = {}
        for name, ts in self.times.items():
            q = statistics.quantiles(ts, n=20) if len(ts) > 1 else ts * 19
            out[name] = (len(ts), statistics.median(ts) * 1000, q[18] * 1000)
        return out


def ok(r: requests.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    return r.json()


@pytest.mark.both_dbs
def test_concurrent_uploads_and_jobs(load_app: str, load_db_url: str, tmp_path: Path) -> None:
    """Two users on both faces at once: every upload and job lands once and is its owner's, and reads
    (probed meanwhile) keep answering. Long because the load and its checks share one run's counts."""
    base = load_app
    before = counts(load_db_url)
    photo = photo_bytes("top")
    path = tmp_path / "top.jpg"
    path.write_bytes(photo)
    # two users, each on both faces: one token for REST and for its gradio_clients
    users = [auth_headers(base) for _ in range(2)]
    rest = [requests.Session() for _ in users]
    for session, headers in zip(rest, users, strict=True):
        session.headers.update(headers)
    clients = [Client(base, verbose=False, headers=users[i % 2]) for i in range(4)]

    def owner(i: int) -> int:  # the user of the i-th call; clients[k] belongs to users[k % 2]
        return (i % 3 + 1) % 2 if i % 2 else i // 2 % 2

    presets = ok(rest[0].get(base + "/avatar-presets", timeout=10), 200)
    imports = [ok(s.post(base + "/clothes3d/import", files={"file": ("t.glb", exported(garment("top"), "glb"))},
                         timeout=60), 201) for s in rest]
    imported = imports[0]

    def rest_ok(path: str) -> None:
        r = rest[0].get(base + path, timeout=30)
        assert r.status_code == 200, r.text

    prober = Prober({
        "REST /healthz": lambda: rest_ok("/healthz"),
        "REST list_presets": lambda: rest_ok("/avatar-presets"),
        "REST get_result": lambda: rest_ok(f"/clothes3d/{imported['id']}"),
        "gradio list_presets": lambda: clients[0].predict(api_name="/list_presets"),
        "gradio get_result": lambda: clients[0].predict(imported["id"], api_name="/get_result"),
    })
    prober.start()
    t0 = time.perf_counter()

    def upload(i: int) -> dict:
        if i % 2:
            return clients[i % 3 + 1].predict(handle_file(str(path)), api_name="/upload_image")
        return ok(rest[owner(i)].post(base + "/clothes/upload-image", files={"file": (f"{i}.jpg", photo)},
                                      timeout=120), 201)

    with ThreadPoolExecutor(UPLOADS) as pool:
        cloths = list(pool.map(upload, range(UPLOADS)))
    upload_s = time.perf_counter() - t0
    assert all(c["status"] == "uploaded" for c in cloths)

    def generate(i: int) -> dict:
        cloth_id = cloths[i]["id"]  # the same user uploads and generates: owner(i) of both calls
        if i % 2:
            return clients[i % 3 + 1].predict(cloth_id, "silhouette", "low", api_name="/generate_3d")
        return ok(rest[owner(i)].post(f"{base}/clothes/{cloth_id}/generate-3d", json={"model": "silhouette"},
                                      timeout=60), 202)

    def fit(i: int) -> dict:
        preset = presets[i % len(presets)]["id"]
        garment_id = imports[owner(i)]["id"]
        if i % 2:
            return clients[i % 3 + 1].predict(garment_id, preset, api_name="/fit")
        return ok(rest[owner(i)].post(base + "/fit", json={"cloth3d_id": garment_id, "avatar_preset_id": preset},
                                      timeout=60), 202)

    t1 = time.perf_counter()
    with ThreadPoolExecutor(GENERATES + FITS) as pool:
        gens = [pool.submit(generate, i) for i in range(GENERATES)]
        fits = [pool.submit(fit, i) for i in range(FITS)]
        jobs = [f.result() for f in gens + fits]
    assert all(j["status"] == "processing" for j in jobs)
    pending = {j["id"]: (owner(i), f"/clothes3d/{j['id']}") for i, j in enumerate(jobs[:GENERATES])}
    pending |= {j["id"]: (owner(i), f"/session/{j['id']}/result") for i, j in enumerate(jobs[GENERATES:])}
    ended: dict[str, dict] = {}
    deadline = time.monotonic() + 240
    while pending:
        assert time.monotonic() < deadline, f"{len(pending)} jobs still processing"
        for job_id, (user, result_path) in list(pending.items()):
            job = ok(rest[user].get(base + result_path, timeout=30), 200)
            if job["status"] != "processing":
                ended[job_id] = job
                del pending[job_id]
        time.sleep(0.5)
    jobs_s = time.perf_counter() - t1
    prober.stop.set()
    prober.join(30)

    print(f"\nload ({load_db_url.split(':')[0]}): {UPLOADS} uploads in {upload_s:.1f} s, "
          f"{GENERATES} generate + {FITS} fit jobs in {jobs_s:.1f} s")
    for name, (n, p50, p95) in prober.report().items():
        print(f"  {name:<20} n={n:<4} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")
    failed = {i: j["log"] for i, j in ended.items() if j["status"] != "done"}
    assert not failed, failed
    assert not prober.failures, prober.failures[:5]

    after = counts(load_db_url)
    made = {t: after[t] - before[t] for t in after}
    assert made == {"cloth": UPLOADS, "cloth3d": GENERATES + 2, "fittingsession": FITS}, made
    # each user's listings hold exactly that user's rows, none of the other's
    for user, session in enumerate(rest):
        garments = {imports[user]["id"]} | {j["id"] for i, j in enumerate(jobs[:GENERATES]) if owner(i) == user}
        fittings = {j["id"] for i, j in enumerate(jobs[GENERATES:]) if owner(i) == user}
        assert {g["id"] for g in ok(session.get(base + "/clothes3d", params={"limit": 100}, timeout=30), 200)} \
            == garments
        assert {f["id"] for f in ok(session.get(base + "/fittings", params={"limit": 100}, timeout=30), 200)} \
            == fittings
    assert {c["user_id"] for c in cloths} == {c["user_id"] for c in (imports[0], imports[1])}
    assert len({c["id"] for c in cloths}) == UPLOADS and len(ended) == GENERATES + FITS
    for c in cloths[:: UPLOADS // 5]:  # a sample of the rows: each has its object
        assert requests.get(c["image_url"], timeout=10).content[:3] == b"\xff\xd8\xff"
    assert requests.get(base + "/healthz", timeout=10).status_code == 200
