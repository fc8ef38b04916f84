"""Bounded work per client, through the faces: each limit answers 429 with a Retry-After and a
message, nothing is stored for a refused request, and another client is not held back."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from core.config import Settings
from tests.conftest import authorize, photo_bytes


@pytest.fixture
def tight(tmp_path, db_url):
    from demo.server import create_app

    settings = Settings(data_dir=tmp_path / "data", job_workers=1, db_url=db_url, quota_tokens_per_hour=3,
                        quota_jobs_in_flight=2, quota_uploads_per_hour=3, quota_address_uploads_per_hour=5,
                        quota_address_jobs_in_flight=3)
    with TestClient(create_app(settings)) as client:
        client.app.state.service.runner.submit = lambda *a, **kw: None  # jobs stay in flight
        yield client


def refused(r) -> None:
    assert r.status_code == 429, r.text
    assert int(r.headers["retry-after"]) >= 1 and "Try again in" in r.json()["detail"]


@pytest.mark.both_dbs
def test_new_identities_per_address(tight) -> None:
    for _ in range(3):
        assert tight.post("/auth/token").status_code == 201
    refused(tight.post("/auth/token"))


@pytest.mark.both_dbs
def test_jobs_in_flight_and_uploads_per_user_and_address(tight) -> None:
    alice = authorize(tight)
    photos = [alice.post("/clothes/upload-image", files={"file": ("t.jpg", photo_bytes())}) for _ in range(3)]
    assert [r.status_code for r in photos] == [201, 201, 201]
    refused(alice.post("/clothes/upload-image", files={"file": ("t.jpg", photo_bytes())}))  # 3 an hour each
    ids = [r.json()["id"] for r in photos]
    started = [alice.post(f"/clothes/{i}/generate-3d", json={"model": "silhouette"}) for i in ids[:2]]
    assert [r.status_code for r in started] == [202, 202]
    refused(alice.post(f"/clothes/{ids[2]}/generate-3d", json={"model": "silhouette"}))  # 2 in flight each
    listed = alice.get("/clothes3d").json()
    assert len(listed) == 2  # the refused one left no row

    bob = TestClient(tight.app)
    authorize(bob)
    bob_photos = [bob.post("/clothes/upload-image", files={"file": ("t.jpg", photo_bytes())}) for _ in range(3)]
    assert [r.status_code for r in bob_photos] == [201, 201, 429]  # the address's 5 an hour are used up
    assert bob.post(f"/clothes/{bob_photos[0].json()['id']}/generate-3d",
                    json={"model": "silhouette"}).status_code == 202
    refused(bob.post(f"/clothes/{bob_photos[1].json()['id']}/generate-3d", json={"model": "silhouette"}))


def test_gradio_uploads_are_bounded_per_address_and_in_all(tmp_path) -> None:
    from demo.server import create_app

    settings = Settings(data_dir=tmp_path / "data", job_workers=1, quota_address_uploads_per_hour=2,
                        gradio_upload_quota_mb=1)
    with TestClient(create_app(settings)) as client:
        def upload(data: bytes):
            return client.post("/gradio_api/upload", files={"files": ("t.jpg", data, "image/jpeg")})

        assert upload(photo_bytes()).status_code == 200
        assert upload(photo_bytes()).status_code == 200
        refused(upload(photo_bytes()))  # the address's 2 an hour
    settings = Settings(data_dir=tmp_path / "data2", job_workers=1, gradio_upload_quota_mb=0.5)
    with TestClient(create_app(settings)) as client:
        (settings.data_dir / "gradio" / "big.bin").write_bytes(b"\0" * 2**20)  # the folder is over its quota
        r = client.post("/gradio_api/upload", files={"files": ("t.jpg", photo_bytes(), "image/jpeg")})
        assert r.status_code == 507 and r.headers["retry-after"]
