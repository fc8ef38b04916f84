"""Isolation: random ids, per-user listing and fetching, presign expiry, no file outside the storage
root, CORS closed unless configured."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import pytest
import requests
from fastapi.testclient import TestClient
from pydantic import ValidationError

from core.config import Settings
from core.errors import InputError, NotFound
from core.storage import S3Storage
from tests.conftest import photo_bytes
from tests.test_importer import exported, garment
from tests.test_service import make_service, wait

ALICE, BOB = str(uuid.uuid4()), str(uuid.uuid4())


@pytest.fixture(scope="module")
def garment_glb() -> bytes:
    return exported(garment("top"), "glb")


@pytest.fixture
def service(settings):
    svc = make_service(settings)
    yield svc
    svc.runner.close()


def test_ids_are_random_uuid4(service) -> None:
    ids = [service.upload_image(io.BytesIO(photo_bytes()), "t.jpg")["id"] for _ in range(5)]
    assert len(set(ids)) == 5
    assert all(uuid.UUID(i).version == 4 for i in ids)


@pytest.mark.both_dbs
def test_users_see_only_their_own_rows(service, garment_glb) -> None:
    a = service.upload_garment_3d(io.BytesIO(garment_glb), "a.glb", user_id=ALICE)
    b = service.upload_garment_3d(io.BytesIO(garment_glb), "b.glb", user_id=BOB)
    anonymous = service.upload_garment_3d(io.BytesIO(garment_glb), "c.glb")
    assert a["user_id"] == ALICE and anonymous["user_id"] is None
    assert [g["id"] for g in service.list_garments(ALICE)] == [a["id"]]
    assert [g["id"] for g in service.list_garments(BOB)] == [b["id"]]
    assert service.list_garments(str(uuid.uuid4())) == []

    assert service.get_result(a["id"], user_id=ALICE)["id"] == a["id"]
    for other in (b["id"], anonymous["id"]):  # another user's row, or nobody's, does not exist for Alice
        with pytest.raises(NotFound):
            service.get_result(other, user_id=ALICE)
    assert service.get_result(b["id"])["id"] == b["id"]  # without a user, an id is a capability

    preset = service.list_presets()[0]["id"]
    with pytest.raises(NotFound, match="No 3D garment"):
        service.fit(b["id"], preset, user_id=ALICE)  # Alice cannot dress herself in Bob's garment
    session = wait(service, service.fit(a["id"], preset, user_id=ALICE)["id"])
    assert session["status"] == "done" and session["user_id"] == ALICE
    assert [f["id"] for f in service.list_fittings(ALICE)] == [session["id"]]
    assert service.list_fittings(BOB) == []
    with pytest.raises(NotFound):
        service.get_result(session["id"], user_id=BOB)
    assert service.get_result(preset, user_id=BOB)["kind"] == "avatar"  # presets are everyone's

    cloth = service.upload_image(io.BytesIO(photo_bytes()), "t.jpg", user_id=BOB)
    with pytest.raises(NotFound, match="No garment photo"):
        service.generate_3d(cloth["id"], "silhouette", "low", user_id=ALICE)
    job = service.generate_3d(cloth["id"], "silhouette", "low", user_id=BOB)
    assert job["user_id"] == BOB
    wait(service, job["id"])


@pytest.mark.parametrize("user_id,limit,error", [("", 10, "not a valid id"), ("bob", 10, "not a valid id"),
                                                 (ALICE, 0, "limit"), (ALICE, 10**9, "limit")])
def test_list_refuses_bad_arguments(service, user_id, limit, error) -> None:
    with pytest.raises(InputError, match=error):
        service.list_garments(user_id, limit)


@pytest.mark.slow
def test_rest_scoping(live_app: str, garment_glb) -> None:
    made = {}
    for user in (ALICE, BOB):
        r = requests.post(live_app + "/clothes3d/import", files={"file": ("g.glb", garment_glb)},
                          data={"user_id": user, "category": "top"}, timeout=60)
        assert r.status_code == 201, r.text
        made[user] = r.json()["id"]
    listed = requests.get(live_app + "/clothes3d", params={"user_id": ALICE}, timeout=10)
    assert listed.status_code == 200 and [g["id"] for g in listed.json()] == [made[ALICE]]
    r = requests.get(f"{live_app}/clothes3d/{made[BOB]}", params={"user_id": ALICE}, timeout=10)
    assert r.status_code == 404 and "No job" in r.json()["detail"]
    assert requests.get(f"{live_app}/clothes3d/{made[BOB]}", params={"user_id": BOB}, timeout=10).status_code == 200

    preset = requests.get(live_app + "/avatar-presets", timeout=10).json()[0]["id"]
    r = requests.post(live_app + "/fit", json={"cloth3d_id": made[BOB], "avatar_preset_id": preset,
                                               "user_id": ALICE}, timeout=10)
    assert r.status_code == 404
    r = requests.post(live_app + "/fit", json={"cloth3d_id": made[ALICE], "avatar_preset_id": preset,
                                               "user_id": ALICE}, timeout=10)
    assert r.status_code == 202
    fittings = requests.get(live_app + "/fittings", params={"user_id": ALICE}, timeout=10).json()
    assert [f["id"] for f in fittings] == [r.json()["id"]]
    assert requests.get(live_app + "/fittings", params={"user_id": BOB}, timeout=10).json() == []
    r = requests.get(f"{live_app}/session/{fittings[0]['id']}/result", params={"user_id": BOB}, timeout=10)
    assert r.status_code == 404

    # The Gradio API scopes the same way.
    from gradio_client import Client

    client = Client(live_app, verbose=False)
    assert client.predict(made[ALICE], ALICE, api_name="/get_result")["id"] == made[ALICE]
    with pytest.raises(Exception, match="No job"):
        client.predict(made[BOB], ALICE, api_name="/get_result")


# -- presigned URLs -------------------------------------------------------------------------------
def test_presign_expiry_from_the_environment(monkeypatch, tmp_path, moto_endpoint) -> None:
    monkeypatch.setenv("PRESIGN_EXPIRY_S", "90")
    s3 = S3Storage(Settings(data_dir=tmp_path, s3_endpoint=moto_endpoint, s3_key="k", s3_secret="s",
                            s3_bucket=f"exp-{uuid.uuid4().hex[:10]}"))
    s3.put_bytes("a/b.txt", b"x", "text/plain")
    query = parse_qs(urlparse(s3.url("a/b.txt")).query)
    assert query["X-Amz-Expires"] == ["90"]
    signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - signed).total_seconds()) < 60  # counted from now, not from start-up
    for bad in ("0", "30", str(8 * 24 * 3600)):  # never, too short to use, or longer than S3 allows
        monkeypatch.setenv("PRESIGN_EXPIRY_S", bad)
        with pytest.raises(ValidationError):
            Settings()


# -- no file outside the storage root -------------------------------------------------------------
@pytest.fixture
def escape_link(live_app_dir: Path) -> Iterator[str]:
    """A link inside the objects folder that points at the database: it must not be followed."""
    link = live_app_dir / "objects" / "clothes" / "escape"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(live_app_dir / "fitroom.db")
    yield "clothes/escape"
    link.unlink()


def _get(base: str, path: str) -> requests.Response:
    """The path sent exactly as written (requests would tidy `..` away)."""
    session = requests.Session()
    req = requests.Request("GET", base + "/").prepare()
    req.url = base + path
    return session.send(req, timeout=10)


@pytest.mark.slow
def test_files_route_stays_in_the_root(live_app: str, escape_link: str, live_app_dir: Path) -> None:
    link = escape_link
    for path in ("/files/../fitroom.db", "/files/%2e%2e/fitroom.db", "/files/..%2ffitroom.db",
                 "/files/presets/..%2f..%2ffitroom.db", "/files/%2fetc%2fpasswd", "//files/../../app.py",
                 "/files/presets/%5c..%5c..%5cfitroom.db", "/files/presets/%00.png", f"/files/{link}",
                 "/files/" + quote(str(live_app_dir / "fitroom.db"))):
        r = _get(live_app, path)
        assert r.status_code in (400, 403, 404), (path, r.status_code)
        assert b"SQLite format" not in r.content and b"root:" not in r.content
    preset = requests.get(live_app + "/avatar-presets", timeout=10).json()[0]
    assert _get(live_app, preset["thumbnail_url"]).content[:4] == b"\x89PNG"  # the real ones still come


@pytest.mark.slow
def test_gradio_file_route_stays_in_allowed_paths(live_app: str, escape_link: str, live_app_dir: Path) -> None:
    db = live_app_dir / "fitroom.db"
    objects = live_app_dir / "objects"
    repo_file = Path(__file__).resolve().parents[1] / "app.py"
    link = escape_link
    for target in ("/etc/passwd", str(db), f"{objects}/../fitroom.db", f"{objects}/%2e%2e/fitroom.db",
                   f"{objects}/..%2ffitroom.db", str(repo_file), "app.py", "../../../etc/passwd",
                   f"{objects}/{link}", str(Path(os.environ.get("HOME", "/root")) / ".bashrc")):
        r = _get(live_app, "/gradio_api/file=" + target)
        assert r.status_code in (400, 403, 404), (target, r.status_code)
        assert b"SQLite format" not in r.content and b"root:" not in r.content and b"uvicorn" not in r.content
    thumb = objects / "presets" / "slim-woman-160" / "thumb.png"
    assert _get(live_app, f"/gradio_api/file={thumb}").content[:4] == b"\x89PNG"


# -- CORS -----------------------------------------------------------------------------------------
def _preflight(client, origin: str):
    return client.options("/fit", headers={"origin": origin, "access-control-request-method": "POST",
                                           "access-control-request-headers": "content-type"})


@pytest.mark.slow
def test_cors_closed_by_default(live_app: str) -> None:
    with requests.Session() as http:
        http.request = _with_base(http.request, live_app)
        for origin in ("https://evil.example", "http://localhost:3000", "null"):
            r = _preflight(http, origin)
            assert "access-control-allow-origin" not in r.headers, (origin, r.headers)
            r = http.get("/healthz", headers={"origin": origin})
            assert "access-control-allow-origin" not in r.headers


def _with_base(request, base: str):
    def call(method, url, *args, **kw):
        return request(method, base + url, *args, timeout=10, **kw)
    return call


def test_cors_opens_to_configured_origins(tmp_path) -> None:
    from demo.server import create_app

    settings = Settings(data_dir=tmp_path / "data", job_workers=1,
                        cors_origins="https://shop.example, https://fitroom.example/")
    with TestClient(create_app(settings)) as client:
        for origin in ("https://shop.example", "https://fitroom.example"):
            r = _preflight(client, origin)
            assert r.status_code == 200 and r.headers["access-control-allow-origin"] == origin
            assert client.get("/healthz", headers={"origin": origin}).headers["access-control-allow-origin"] == origin
        r = _preflight(client, "https://evil.example")
        assert r.status_code == 400 and "access-control-allow-origin" not in r.headers
        assert "access-control-allow-origin" not in client.get("/healthz", headers={"origin": "https://evil.example"}).headers
