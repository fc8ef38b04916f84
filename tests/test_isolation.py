"""Isolation: random ids, per-user listing and fetching, presign expiry, no file outside the storage
root, CORS closed unless configured."""

from __future__ import annotations

import io
import os
import time
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
from core.errors import Forbidden, InputError, NotFound, Unauthorized
from core.identity import Identity
from core.storage import S3Storage
from tests.conftest import new_caller, photo_bytes
from tests.test_importer import exported
from tests.test_importer import garment as garment_mesh
from tests.test_service import make_service, wait


@pytest.fixture(scope="module")
def garment_glb() -> bytes:
    return exported(garment_mesh("top"), "glb")


@pytest.fixture
def service(settings):
    svc = make_service(settings).service  # the bare service: each call below names its caller
    yield svc
    svc.runner.close()


def test_ids_are_random_uuid4(service) -> None:
    me = new_caller(service)
    ids = [service.upload_image(io.BytesIO(photo_bytes()), "t.jpg", caller=me)["id"] for _ in range(5)]
    assert len(set(ids)) == 5
    assert all(uuid.UUID(i).version == 4 for i in ids)


@pytest.mark.both_dbs
def test_users_see_only_their_own_rows(service, garment_glb) -> None:
    alice, bob = new_caller(service), new_caller(service)
    a = service.upload_garment_3d(io.BytesIO(garment_glb), "a.glb", caller=alice)
    b = service.upload_garment_3d(io.BytesIO(garment_glb), "b.glb", caller=bob)
    assert a["user_id"] == alice.user_id and b["user_id"] == bob.user_id
    assert [g["id"] for g in service.list_garments(alice)] == [a["id"]]
    assert [g["id"] for g in service.list_garments(bob)] == [b["id"]]
    assert service.list_garments(new_caller(service)) == []

    assert service.get_result(a["id"], caller=alice)["id"] == a["id"]
    with pytest.raises(NotFound):  # another user's row does not exist for Alice, by any route
        service.get_result(b["id"], caller=alice)
    with pytest.raises(NotFound):
        service.local_files(b["id"], caller=alice)

    preset = service.list_presets(bob)[0]["id"]
    with pytest.raises(NotFound, match="No 3D garment"):
        service.fit(b["id"], preset, caller=alice)  # Alice cannot dress herself in Bob's garment
    with pytest.raises(NotFound, match="No 3D garment"):
        service.fit([a["id"], b["id"]], preset, caller=alice)  # nor wear it as a layer of her own
    session = wait(service, service.fit(a["id"], preset, caller=alice)["id"], caller=alice)
    assert session["status"] == "done" and session["user_id"] == alice.user_id
    assert [f["id"] for f in service.list_fittings(alice)] == [session["id"]]
    assert service.list_fittings(bob) == []
    with pytest.raises(NotFound):
        service.get_result(session["id"], caller=bob)
    assert service.get_result(preset, caller=bob)["kind"] == "avatar"  # presets are everyone's

    cloth = service.upload_image(io.BytesIO(photo_bytes()), "t.jpg", caller=bob)
    with pytest.raises(NotFound, match="No garment photo"):
        service.generate_3d(cloth["id"], "silhouette", "low", caller=alice)
    job = service.generate_3d(cloth["id"], "silhouette", "low", caller=bob)
    assert job["user_id"] == bob.user_id
    wait(service, job["id"], caller=bob)


@pytest.mark.both_dbs
def test_custom_avatars_are_their_owners(service, monkeypatch) -> None:
    """A body's measurements are personal: nobody else lists, reads or dresses another's avatar."""
    alice, bob = new_caller(service), new_caller(service)
    garment = service.upload_garment_3d(io.BytesIO(exported(garment_mesh("top"), "glb")), "g.glb", caller=bob)
    monkeypatch.setattr(service.runner, "submit", lambda *a, **kw: None)  # the avatars' rows are enough here
    made = service.create_avatar(168, 90, 72, 98, "female", caller=alice)
    assert service.get_result(made["id"], caller=alice)["id"] == made["id"]
    with pytest.raises(NotFound):
        service.get_result(made["id"], caller=bob)
    same = service.create_avatar(168, 90, 72, 98, "female", caller=bob)
    assert same["id"] != made["id"]  # the same measurements give Bob a body of his own
    from core.db import session_scope
    from core.models import AvatarPreset
    with session_scope(service.ctx.engine) as s:  # as if built
        for avatar_id in (made["id"], same["id"]):
            row = s.get(AvatarPreset, avatar_id)
            row.status = "done"
            s.add(row)
        s.commit()
    assert made["id"] in {a["id"] for a in service.list_presets(alice)}
    assert made["id"] not in {a["id"] for a in service.list_presets(bob)}
    assert not any(a["is_custom"] for a in service.list_presets(None))  # without a caller: presets only
    with pytest.raises(NotFound, match="No avatar"):
        service.fit(garment["id"], made["id"], caller=bob)


@pytest.mark.both_dbs
def test_listings_are_paged(service, garment_glb) -> None:
    me = new_caller(service)
    made = [service.upload_garment_3d(io.BytesIO(garment_glb), "g.glb", caller=me)["id"] for _ in range(5)]
    pages, after = [], None
    while page := service.list_garments(me, 2, after):
        pages.append([g["id"] for g in page])
        after = page[-1]["id"]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [i for p in pages for i in p] == list(reversed(made))  # newest first, each once
    with pytest.raises(InputError, match="after"):
        service.list_garments(new_caller(service), 2, made[0])  # another user's row is no cursor


@pytest.mark.parametrize("limit,after,error", [(0, None, "limit"), (10**9, None, "limit"), (101, None, "limit"),
                                               (10, "bob", "not a valid id")])
def test_list_refuses_bad_arguments(service, limit, after, error) -> None:
    with pytest.raises(InputError, match=error):
        service.list_garments(new_caller(service), limit, after)


@pytest.mark.both_dbs
def test_tokens_are_the_servers(service) -> None:
    """A token names a user the server made; anything else — forged, altered, expired, unknown — is
    a 401, and a claimed user_id that is not the caller's is a 403."""
    user_id, token = service.identity.issue()
    assert service.caller(token).user_id == user_id
    body, sig = token.rsplit(".", 1)
    forged = [token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), f"{body}.{sig[::-1]}", "",
              service.identity.token_for(str(uuid.uuid4())),  # well signed, but no such user
              service.identity.token_for(user_id, issued=int(time.time()) - 400 * 86400),  # expired
              token.replace(user_id, str(uuid.uuid4())), "Bearer " + token, token + ".x", "x" * 5000]
    for bad in forged:
        with pytest.raises(Unauthorized):
            service.caller(bad)
    elsewhere = Settings(data_dir=service.ctx.settings.data_dir, secret_key="another server's secret, 32+ chars")
    other = Identity(elsewhere, service.ctx.engine)
    with pytest.raises(Unauthorized):
        other.caller(token)  # signed by another secret
    me = service.caller(token)
    me.claim(None)
    me.claim(user_id.upper())
    with pytest.raises(Forbidden):
        me.claim(str(uuid.uuid4()))


def test_api_keys_name_users(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path / "data", job_workers=1, api_keys="partner=sk-1,ci=sk-2, broken")
    svc = make_service(settings).service
    try:
        first, again, ci = svc.caller("sk-1"), svc.caller("sk-1"), svc.caller("sk-2")
        assert first.user_id == again.user_id != ci.user_id
        with pytest.raises(Unauthorized):
            svc.caller("sk-3")
        with pytest.raises(Unauthorized):
            svc.caller("partner")
        from core.db import session_scope
        from core.models import User
        with session_scope(svc.ctx.engine) as s:
            assert s.get(User, first.user_id).kind == "api_key" and s.get(User, first.user_id).name == "partner"
    finally:
        svc.runner.close()


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
    assert requests.get(preset["thumbnail_url"], timeout=10).content[:4] == b"\x89PNG"  # the real ones still come


@pytest.mark.slow
def test_gradio_file_route_serves_only_uploads_and_examples(live_app: str, escape_link: str,
                                                            live_app_dir: Path) -> None:
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
    assert thumb.is_file()  # a stored object is not served by its path: its id would be enough to open it
    assert _get(live_app, f"/gradio_api/file={thumb}").status_code == 403


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


@pytest.mark.both_dbs
def test_the_pages_token_is_sealed(service) -> None:
    """What the page keeps in the browser is the token encrypted by the server: unreadable, not a
    Bearer credential, and nothing else unseals."""
    user_id, token = service.identity.issue()
    sealed = service.identity.seal(token)
    assert user_id not in sealed and token not in sealed
    assert service.identity.unseal(sealed) == token
    with pytest.raises(Unauthorized):
        service.caller(sealed)
    for bad in (token, sealed[:-4] + "AAAA", "", None, 42, ["x"], "x" * 5000):
        assert service.identity.unseal(bad) is None


@pytest.mark.both_dbs
def test_a_spaces_login_is_one_user(service) -> None:
    """A Hugging Face visitor signed in to the Space is the same user on every visit, and not a user
    an API key or another login names."""
    first, again = service.identity.for_login("alice"), service.identity.for_login("alice")
    assert first.user_id == again.user_id != service.identity.for_login("bob").user_id
    from core.db import session_scope
    from core.models import User
    with session_scope(service.ctx.engine) as s:
        row = s.get(User, first.user_id)
    assert (row.kind, row.name) == ("hf", "alice")
    token = service.identity.token_for(first.user_id)  # what the page keeps for that visitor
    assert service.caller(token).user_id == first.user_id
