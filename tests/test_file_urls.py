"""Local file URLs are signed and expire: the bare path, a tampered or expired signature, and one key's
signature on another key are all refused; the server secret persists and splits per purpose."""

from __future__ import annotations

import stat
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from core.config import Settings
from core.file_urls import BUCKET_S, WAIT_MAX_S, BadSignature, FileUrlSigner, UrlExpired
from core.secrets import SECRET_FILE, server_secret, subkey
from tests.conftest import authorize, photo_bytes

NOW = 1_800_000_000.0
KEYS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}(/[A-Za-z0-9][A-Za-z0-9._-]{0,20}){0,3}", fullmatch=True)


def _parts(url: str) -> tuple[str, str, str]:
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    return parsed.path.removeprefix("/files/"), query["expires"][0], query["sig"][0]


def _signer(expiry_s: int = 600, now: float = NOW) -> FileUrlSigner:
    return FileUrlSigner(b"s" * 32, expiry_s, clock=lambda: now)


@given(key=KEYS, other=KEYS, expiry_s=st.integers(60, 7 * 24 * 3600), now=st.floats(1e9, 4e9),
       later=st.floats(0, 8 * 24 * 3600))
def test_signatures_open_their_own_key_until_they_expire(key, other, expiry_s, now, later) -> None:
    signer = _signer(expiry_s, now)
    query = parse_qs(signer.query(key))
    expires, sig = query["expires"][0], query["sig"][0]
    assert int(expires) % BUCKET_S == 0 and now + expiry_s <= int(expires) < now + expiry_s + BUCKET_S
    assert signer.check(key, expires, sig) > 0
    if other != key:
        with pytest.raises(BadSignature):
            signer.check(other, expires, sig)
    with pytest.raises(BadSignature):  # the expiry cannot be stretched
        signer.check(key, str(int(expires) + BUCKET_S), sig)
    signer.clock = lambda: now + later
    if now + later >= int(expires):
        with pytest.raises(UrlExpired):
            signer.check(key, expires, sig)
    else:
        assert signer.check(key, expires, sig) > 0


def test_same_url_within_a_bucket() -> None:
    """Polls a few seconds apart get one URL, so the browser's cached copy is used."""
    start = (NOW // BUCKET_S) * BUCKET_S
    assert _signer(now=start + 1).query("a/b") == _signer(now=start + BUCKET_S - 1).query("a/b")
    assert _signer(now=start + 1).query("a/b") != _signer(now=start + BUCKET_S + 1).query("a/b")


@pytest.mark.parametrize("expires,sig", [(None, None), ("", ""), ("123", None), (None, "abc"), ("1e9", "x"),
                                         ("-5", "x"), ("٣٣٣", "x"), ("9" * 40, "x"), ("1800000600", "é")])
def test_malformed_signatures_refused(expires, sig) -> None:
    with pytest.raises(BadSignature):
        _signer().check("a/b", expires, sig)


def test_server_secret_kept_in_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    secret = server_secret(settings)
    path = settings.data_dir / SECRET_FILE
    assert len(secret) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert server_secret(Settings(data_dir=tmp_path / "data")) == secret  # the same after a restart
    assert server_secret(Settings(data_dir=tmp_path / "other")) != secret
    assert subkey(settings, "file-url") != subkey(settings, "token") != secret
    chosen = Settings(data_dir=tmp_path / "data", secret_key="x" * 32)
    assert server_secret(chosen) == b"x" * 32 and subkey(chosen, "file-url") != subkey(settings, "file-url")
    assert "x" * 32 not in repr(chosen)


def test_damaged_secret_file_is_not_replaced(tmp_path: Path) -> None:
    (tmp_path / SECRET_FILE).write_text("short")
    with pytest.raises(RuntimeError, match="delete it"):
        server_secret(Settings(data_dir=tmp_path))
    assert (tmp_path / SECRET_FILE).read_text() == "short"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from demo.server import create_app

    settings = Settings(data_dir=tmp_path_factory.mktemp("urls") / "data", job_workers=1)
    with TestClient(create_app(settings)) as c:
        yield authorize(c)


def test_files_route_checks_signatures(client) -> None:
    cloth = client.post("/clothes/upload-image", files={"file": ("t.jpg", photo_bytes())}).json()
    thumb = client.get("/avatar-presets").json()[0]["thumbnail_url"]
    r = client.get(cloth["image_url"])
    assert r.status_code == 200 and r.content[:3] == b"\xff\xd8\xff"
    assert r.headers["cache-control"].startswith("private, max-age=")
    key, expires, sig = _parts(cloth["image_url"])
    other_key, other_expires, other_sig = _parts(thumb)
    tampered = sig[:-1] + ("A" if sig[-1] != "A" else "B")
    for url in (f"/files/{key}", f"/files/{key}?expires={expires}", f"/files/{key}?expires={expires}&sig={tampered}",
                f"/files/{key}?expires={other_expires}&sig={other_sig}",  # key B's signature on key A
                f"/files/{other_key}?expires={expires}&sig={sig}"):
        r = client.get(url)
        assert r.status_code == 403, url
        assert "detail" in r.json() and r.headers["cache-control"] == "no-store"


def test_expired_url_is_gone(client) -> None:
    storage = client.app.state.service.ctx.storage
    url = client.get("/avatar-presets").json()[0]["thumbnail_url"]
    expires = int(_parts(url)[1])
    clock, storage.signer.clock = storage.signer.clock, lambda: expires + 1
    try:
        r = client.get(url)
    finally:
        storage.signer.clock = clock
    assert r.status_code == 410 and "expired" in r.json()["detail"]
    assert client.get(url).status_code == 200



def test_processes_starting_together_share_one_secret(tmp_path: Path) -> None:
    """The API and its workers may all make the key at once: one of them wins, all read that one."""
    from concurrent.futures import ThreadPoolExecutor

    from core.secrets import _stored_secret

    path = tmp_path / SECRET_FILE
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: _stored_secret.__wrapped__(path), range(32)))
    assert len(keys) == 1 and sorted(p.name for p in tmp_path.iterdir()) == [SECRET_FILE]


def test_record_urls_are_absolute_against_the_request(client) -> None:
    """Every URL a record carries opens as it is: built from the root URL the request came to."""
    cloth = client.post("/clothes/upload-image", files={"file": ("t.jpg", photo_bytes())},
                        headers={"host": "fitroom.example:8443"}).json()
    assert cloth["image_url"].startswith(f"http://fitroom.example:8443/files/clothes/{cloth['id']}/photo.jpg?")
    job = client.post(f"/clothes/{cloth['id']}/generate-3d", json={"model": "silhouette"}).json()
    assert job["page_url"] == f"http://testserver/?garment={job['id']}"
    anonymous = client.get("/avatar-presets", headers={"authorization": ""}).json()  # no caller: still absolute
    assert all(p[k].startswith("http://testserver/files/presets/") for p in anonymous
               for k in ("glb_url", "draco_glb_url", "gltf_url", "thumbnail_url"))
    assert client.get(anonymous[0]["glb_url"]).content[:4] == b"glTF"


def test_a_url_when_stored_is_answered_once_its_object_is_written(client) -> None:
    """The page asks for a job's model as the job starts: the request is held until the object is
    written, then answered with it; one never written is a 404 (not cached) when the wait is up."""
    import threading
    import time
    import uuid

    storage = client.app.state.service.ctx.storage
    key = f"clothes3d/{uuid.uuid4()}/garment.glb"
    url = storage.url_when_stored(key, 5)
    assert url.endswith("&wait=5") and url.startswith(storage.url(key))
    threading.Timer(0.4, storage.put_bytes, (key, b"glTF model", "model/gltf-binary")).start()
    t0 = time.monotonic()
    r = client.get(url)
    assert r.status_code == 200 and r.content == b"glTF model" and time.monotonic() - t0 >= 0.4
    t0 = time.monotonic()
    assert client.get(url).status_code == 200 and time.monotonic() - t0 < 0.3  # there: at once
    never = f"clothes3d/{uuid.uuid4()}/garment.glb"
    t0 = time.monotonic()
    r = client.get(storage.url_when_stored(never, 1))
    assert r.status_code == 404 and r.headers["cache-control"] == "no-store" and 1 <= time.monotonic() - t0 < 3


def test_held_requests_are_signed_bounded_and_counted(client, monkeypatch) -> None:
    """Only a URL the app signed is held (a bad signature is refused at once); `wait` is a number
    of seconds up to the longest job's; past WAITERS held at once, a 429."""
    import time
    import uuid

    import demo.rest

    storage = client.app.state.service.ctx.storage
    key = f"fittings/{uuid.uuid4()}/fitted.glb"
    _, expires, sig = _parts(storage.url(key))
    t0 = time.monotonic()
    assert client.get(f"/files/{key}?expires={expires}&sig={sig[:-2]}xx&wait=30").status_code == 403
    assert time.monotonic() - t0 < 1
    for wait in ("-1", str(WAIT_MAX_S + 1), "soon", "1e9"):
        assert client.get(f"/files/{key}?expires={expires}&sig={sig}&wait={wait}").status_code == 422, wait
    monkeypatch.setattr(demo.rest, "WAITERS", 0)
    r = client.get(storage.url_when_stored(key, 30))
    assert r.status_code == 429 and r.headers["retry-after"] == "1"


def test_a_job_s_model_url_is_its_owner_s(client) -> None:
    """The page's viewer asks for a job's model by a URL only its owner is given."""
    from core.errors import NotFound

    service = client.app.state.service
    cloth = client.post("/clothes/upload-image", files={"file": ("t.jpg", photo_bytes())}).json()
    job = client.post(f"/clothes/{cloth['id']}/generate-3d", json={"model": "silhouette"}).json()
    owner = service.caller(client.headers["Authorization"].removeprefix("Bearer "))
    url = service.model_url(job["id"], caller=owner, wait_s=60)
    assert url.startswith(f"/files/clothes3d/{job['id']}/garment.glb?") and url.endswith("&wait=60")
    assert service.model_url(job["id"], caller=owner) == url.removesuffix("&wait=60")
    stranger = service.caller(client.post("/auth/token").json()["token"])
    with pytest.raises(NotFound):
        service.model_url(job["id"], caller=stranger, wait_s=60)
