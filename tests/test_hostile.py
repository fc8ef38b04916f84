"""Hostile input against the running app, through REST and gradio_client alike.

Every refused input gets a 4xx (REST) or an error (Gradio API) with a message a person can read,
leaves no new row and no new object, and the app stays healthy. Inputs that are hostile only in
their wrapping (a polyglot, a lying name, a huge EXIF block, CMYK, 16 bit) are accepted and the
stored photo is a clean re-encode without the payload.
"""

from __future__ import annotations

import http.client
import io
import json
import sqlite3
import struct
import zlib
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
import requests
from gradio_client import Client, handle_file
from PIL import Image

from tests.conftest import auth_headers, photo_bytes
from tests.test_importer import exported, garment, glb_bad_indices, glb_with, ply_header_only
from tests.test_uploads import png_bomb

pytestmark = pytest.mark.slow
TABLES = {"cloth": "clothes", "cloth3d": "clothes3d", "fittingsession": "fittings", "avatarpreset": "avatars"}


# -- what the app holds ---------------------------------------------------------------------------
def rows(data_dir: Path) -> dict[str, set[str]]:
    with sqlite3.connect(f"file:{data_dir / 'fitroom.db'}?mode=ro", uri=True) as db:
        return {t: {r[0] for r in db.execute(f"SELECT id FROM {t}")} for t in TABLES}


def object_owners(data_dir: Path) -> dict[str, set[str]]:
    """For each table, the ids that own a folder of objects (`clothes/<id>/photo.jpg` → cloth <id>)."""
    objects = data_dir / "objects"
    return {t: {p.name for p in (objects / prefix).glob("*") if p.is_dir() and not p.is_symlink() and any(p.iterdir())}
            for t, prefix in TABLES.items()}


def check_consistent(data_dir: Path) -> dict[str, set[str]]:
    """No object without its row (rows without objects are checked where they are made)."""
    held, owners = rows(data_dir), object_owners(data_dir)
    for table in TABLES:
        assert owners[table] <= held[table], f"objects without rows in {table}: {owners[table] - held[table]}"
    return held


# -- the corpus -----------------------------------------------------------------------------------
def encoded(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def huge_exif_png() -> bytes:
    """A photo carrying an 8 MB eXIf chunk (Pillow parses it for the orientation)."""
    png = photo_bytes(fmt="PNG")
    exif = Image.Exif()
    exif[0x010E] = "EXIFPAYLOAD" * 700_000
    return png[:33] + png_chunk(b"eXIf", exif.tobytes().removeprefix(b"Exif\0\0")) + png[33:]


def photo() -> Image.Image:
    return Image.open(io.BytesIO(photo_bytes(fmt="PNG")))


REFUSED_IMAGES = {  # name → (file name, bytes, HTTP status, words of the message)
    "zero bytes": ("empty.png", b"", 400, "empty"),
    "10 MB + 1 byte": ("big.jpg", photo_bytes() + b"\0" * (10 * 2**20 + 1 - len(photo_bytes())), 413, "limit"),
    "20000x20000 png bomb": ("bomb.png", png_bomb(20000), 400, "too large"),
    "truncated jpeg": ("cut.jpg", photo_bytes()[:5000], 400, "damaged or truncated"),
    "html named png": ("page.png", b"<!doctype html><html><script>alert(1)</script></html>", 415, "not a PNG"),
    "svg named png": ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', 415,
                      "not a PNG"),
    "animated gif": ("anim.gif", encoded(photo(), "GIF", save_all=True, append_images=[photo().rotate(90)]), 415,
                     "not a PNG"),
    "animated webp": ("anim.webp", encoded(photo(), "WEBP", save_all=True, append_images=[photo().rotate(90)]),
                      400, "Animated"),
    "tiny image": ("dot.png", photo_bytes(fmt="PNG", size=(8, 8)), 400, "at least 32"),
}

ACCEPTED_IMAGES = {  # name → (file name, bytes, bytes that must not reach storage)
    "png named jpg": ("photo.jpg", photo_bytes(fmt="PNG"), None),
    "polyglot jpeg+zip": ("poly.jpg", photo_bytes() + b"PK\x03\x04ZIPPAYLOAD" * 50, b"ZIPPAYLOAD"),
    "cmyk jpeg": ("cmyk.jpg", encoded(photo().convert("CMYK"), "JPEG"), None),
    "16-bit png": ("deep.png", encoded(Image.fromarray(np.asarray(photo().convert("L"), np.uint16) * 257), "PNG"),
                   None),
    "huge exif": ("exif.png", huge_exif_png(), b"EXIFPAYLOAD"),
    "unicode name": ("Ünïcødé 衣服 👕.png", photo_bytes(fmt="PNG"), None),
    "path traversal name": ("../../../../etc/passwd", photo_bytes(), None),
    "very long name": ("x" * 250 + ".png", photo_bytes(fmt="PNG"), None),
}

REFUSED_MESHES = {  # name → (file name, bytes, words of the message)
    "empty": ("g.glb", b"", "empty"),
    "malformed glb": ("g.glb", b"glTF\x02\0\0\0" + b"\xff" * 64, "malformed"),
    "malformed glb json": ("g.glb", glb_with({"asset": {"version": "2.0"}, "meshes": [{"primitives": [{}]}]})[:60],
                           "malformed"),
    "malformed obj": ("g.obj", b"v 0 0\nf 1 2 3 4 5\nv x y z\n", "could not be read"),
    "nan vertices": ("g.obj", b"v nan 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", "not numbers"),
    "10^7 faces (ply)": ("g.ply", ply_header_only(10**7), "10,000,000 faces"),
    "10^7 faces (glb)": ("g.glb", glb_with({"asset": {"version": "2.0"}, "accessors": [{"count": 3 * 10**7}],
                                             "meshes": [{"primitives": [{"indices": 0, "attributes": {}}]}]}),
                         "faces"),
    "faces past the vertices": ("g.glb", glb_bad_indices(), "faces point at vertices"),
    "an image": ("g.glb", photo_bytes(), "not a GLB"),
}


def _health(base: str) -> None:
    r = requests.get(base + "/healthz", timeout=10)
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def headers(live_app: str) -> dict[str, str]:
    """One user's credential for the module: REST and Gradio calls alike."""
    return auth_headers(live_app)


@pytest.fixture(scope="module")
def rest(headers: dict[str, str]) -> requests.Session:
    session = requests.Session()
    session.headers.update(headers)
    return session


@pytest.fixture(scope="module")
def client(live_app: str, headers: dict[str, str]) -> Client:
    return Client(live_app, verbose=False, headers=headers)


def _as_file(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / (Path(name).name or "upload.bin")
    path.write_bytes(data)
    return str(path)


# -- images ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", list(REFUSED_IMAGES))
def test_refused_images(live_app: str, live_app_dir: Path, rest: requests.Session, client: Client, tmp_path: Path,
                        case: str) -> None:
    name, data, status, words = REFUSED_IMAGES[case]
    before = check_consistent(live_app_dir)
    r = rest.post(live_app + "/clothes/upload-image", files={"file": (name, data)}, timeout=60)
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]
    with pytest.raises(Exception, match=words):
        client.predict(handle_file(_as_file(tmp_path, name, data)), api_name="/upload_image")
    assert check_consistent(live_app_dir) == before
    _health(live_app)


@pytest.mark.parametrize("case", ["zero bytes", "10 MB + 1 byte", "20000x20000 png bomb", "html named png"])
def test_refused_back_photos(live_app: str, live_app_dir: Path, rest: requests.Session, client: Client,
                             tmp_path: Path, case: str) -> None:
    """A back photo gets the front's checks, and a refusal says it is about the back."""
    name, data, status, words = REFUSED_IMAGES[case]
    before = check_consistent(live_app_dir)
    front = photo_bytes()
    r = rest.post(live_app + "/clothes/upload-image", files={"file": ("f.jpg", front), "back": (name, data)},
                  timeout=60)
    assert r.status_code == status, r.text
    assert r.json()["detail"].startswith("The back photo") and words in r.json()["detail"]
    with pytest.raises(Exception, match=f"The back photo.*{words}"):
        client.predict(handle_file(_as_file(tmp_path, "f.jpg", front)), handle_file(_as_file(tmp_path, name, data)),
                       api_name="/upload_image")
    assert check_consistent(live_app_dir) == before
    _health(live_app)


@pytest.mark.parametrize("case", list(ACCEPTED_IMAGES))
def test_accepted_images_are_cleaned(live_app: str, live_app_dir: Path, rest: requests.Session, client: Client,
                                     tmp_path: Path, case: str) -> None:
    name, data, payload = ACCEPTED_IMAGES[case]
    before = check_consistent(live_app_dir)
    r = rest.post(live_app + "/clothes/upload-image", files={"file": (name, data)}, timeout=60)
    assert r.status_code == 201, r.text
    via_gradio = client.predict(handle_file(_as_file(tmp_path, name, data)), api_name="/upload_image")
    assert via_gradio["user_id"] == r.json()["user_id"]  # one token, one user, on both faces
    for cloth in (r.json(), via_gradio):
        assert cloth["status"] == "uploaded" and (cloth["width"], cloth["height"]) == (768, 1024)
        assert urlparse(cloth["image_url"]).path == f"/files/clothes/{cloth['id']}/photo.jpg"  # only a label
        stored = requests.get(cloth["image_url"], timeout=10).content
        assert stored[:3] == b"\xff\xd8\xff" and Image.open(io.BytesIO(stored)).mode == "RGB"
        assert not Image.open(io.BytesIO(stored)).getexif()  # EXIF (GPS and all) is not kept
        if payload:
            assert payload not in stored
    after = check_consistent(live_app_dir)
    assert after["cloth"] - before["cloth"] == {r.json()["id"], via_gradio["id"]}
    _health(live_app)


# -- 3D import ------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", list(REFUSED_MESHES))
def test_refused_meshes(live_app: str, live_app_dir: Path, rest: requests.Session, client: Client, tmp_path: Path,
                        case: str) -> None:
    name, data, words = REFUSED_MESHES[case]
    before = check_consistent(live_app_dir)
    r = rest.post(live_app + "/clothes3d/import", files={"file": (name, data)}, timeout=60)
    assert r.status_code in (400, 415), r.text
    assert words in r.json()["detail"]
    with pytest.raises(Exception, match=words):
        client.predict(handle_file(_as_file(tmp_path, name, data)), api_name="/upload_garment_3d")
    assert check_consistent(live_app_dir) == before
    _health(live_app)


def test_oversized_mesh_refused_before_it_is_read(live_app: str, live_app_dir: Path, rest: requests.Session) -> None:
    """A 10⁷-face OBJ is ~200 MB: refused on its declared length, and on its count when streamed."""
    before = check_consistent(live_app_dir)
    conn = http.client.HTTPConnection(urlparse(live_app).netloc, timeout=30)
    conn.putrequest("POST", "/clothes3d/import")
    conn.putheader("content-type", "multipart/form-data; boundary=x")
    conn.putheader("content-length", str(200 * 2**20))
    conn.putheader("authorization", rest.headers["Authorization"])
    conn.endheaders()  # the headers only: the answer comes before any of the body is sent
    r = conn.getresponse()
    assert r.status == 413 and "50 MB limit" in json.loads(r.read())["detail"]
    conn.close()

    def chunks():  # no Content-Length: a chunked body that never ends by itself
        yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="g.obj"\r\n\r\n'
        for _ in range(200):
            yield b"f 1 2 3\n" * 2**17  # 1 MB
    try:
        r = rest.post(live_app + "/clothes3d/import", data=chunks(), timeout=60,
                          headers={"content-type": "multipart/form-data; boundary=x"})
        assert r.status_code == 413 and "50 MB limit" in r.json()["detail"]
    except requests.ConnectionError:
        pass  # the server answered 413 and closed while the client was still sending: also refused
    assert check_consistent(live_app_dir) == before
    _health(live_app)


# -- ids and parameters ---------------------------------------------------------------------------
ZERO = "00000000-0000-4000-8000-000000000000"
BAD_REST = [
    ("post", "/clothes/" + "9" * 5000 + "/generate-3d", {}, 400, "not a valid id"),
    ("post", f"/clothes/{ZERO}/generate-3d", {"user_id": "1 OR 1=1"}, 403, "names another user"),
    ("post", f"/clothes/{ZERO}/generate-3d", {"quality": -1}, 422, ""),
    ("get", "/clothes3d/%00", None, 400, "not a valid id"),
    ("get", f"/clothes3d/{ZERO}?user_id=../../x", None, 403, "names another user"),
    ("get", "/clothes3d?user_id=nobody", None, 403, "names another user"),
    ("get", f"/clothes3d?user_id={ZERO}", None, 403, "names another user"),
    ("get", "/clothes3d?limit=-5", None, 422, ""),
    ("get", "/fittings?limit=1000000000000000000000", None, 422, ""),
    ("get", "/fittings?limit=101", None, 422, ""),
    ("get", "/fittings?after=../../x", None, 400, "not a valid id"),
    ("get", f"/clothes3d?after={ZERO}", None, 400, "previous page"),
    ("post", "/fit", {"cloth3d_id": [ZERO] * 10_000, "avatar_preset_id": ZERO}, 400, "At most 3"),
    ("post", "/fit", {"cloth3d_id": ZERO, "avatar_preset_id": ZERO, "ease": "x" * 10_000}, 422, ""),
    ("post", "/fit", {"cloth3d_id": {"$ne": 1}, "avatar_preset_id": ZERO}, 422, ""),
    ("post", "/avatars", {"height_cm": -170, "chest_cm": 90, "waist_cm": 70, "hips_cm": 95, "gender": "male"},
     422, ""),
    ("post", "/avatars", {"height_cm": 1e308, "chest_cm": 90, "waist_cm": 70, "hips_cm": 95, "gender": "male"},
     422, ""),
]


@pytest.mark.parametrize("method,path,body,status,words", BAD_REST, ids=[f"{b[0]} {b[1][:40]}" for b in BAD_REST])
def test_rest_refuses_bad_parameters(live_app: str, live_app_dir: Path, rest: requests.Session, method, path, body,
                                     status, words) -> None:
    before = check_consistent(live_app_dir)
    r = rest.request(method, live_app + path, json=body, timeout=30)
    assert r.status_code == status, r.text
    if words:
        assert words in r.json()["detail"]
    assert check_consistent(live_app_dir) == before


@pytest.mark.parametrize("body", [b"{not json", b"[" * 100_000, b'{"cloth3d_id": "\xff\xfe"}', b"null",
                                  json.dumps({"a": "b" * 100}).encode()])
def test_malformed_json_bodies(live_app: str, rest: requests.Session, body: bytes) -> None:
    r = rest.post(live_app + "/fit", data=body, headers={"content-type": "application/json"}, timeout=30)
    assert r.status_code in (400, 422), r.text  # 400: not JSON at all (too deep, not UTF-8); 422: wrong JSON
    assert r.json()["detail"]
    _health(live_app)


BAD_GRADIO = [  # a value outside a parameter's choices is refused by Gradio itself, before the service
    ("/generate_3d", ("../../etc/passwd", "silhouette", "low"), "not a valid id"),
    ("/generate_3d", (ZERO, "silhouette", "ultra"), "Unknown quality|not in the list of choices"),
    ("/generate_3d", (ZERO, "gpt-9", "low"), "Unknown model|not in the list of choices"),
    ("/get_result", ("' OR 1=1 --",), "not a valid id"),
    ("/get_result", (ZERO,), "No job"),
    ("/fit", (",".join([ZERO] * 50), ZERO), "At most 3"),
    ("/fit", (ZERO, ZERO, "sideways"), "Unknown ease|not in the list of choices"),
    ("/fit", (ZERO, ZERO, "regular", False, "not-a-user"), "names another user"),
    ("/get_result", (ZERO, "' OR 1=1 --"), "names another user"),
    ("/create_avatar", (-170, 90, 70, 95, "female"), "height must be between"),
    ("/create_avatar", (170, 1e308, 70, 95, "female"), "chest must be between"),
    ("/create_avatar", (170, 90, 70, 95, "<script>"), "Unknown gender|not in the list of choices"),
]


@pytest.mark.parametrize("api,args,words", BAD_GRADIO, ids=[f"{b[0]} {b[2].split('|')[0]}" for b in BAD_GRADIO])
def test_gradio_refuses_bad_parameters(live_app: str, live_app_dir: Path, client: Client, api, args, words) -> None:
    before = check_consistent(live_app_dir)
    with pytest.raises(Exception, match=words):
        client.predict(*args, api_name=api)
    assert check_consistent(live_app_dir) == before
    _health(live_app)


def test_import_of_a_good_mesh_still_works(live_app: str, live_app_dir: Path, rest: requests.Session) -> None:
    """The refusals above are not a closed door: a real garment after them is imported."""
    r = rest.post(live_app + "/clothes3d/import", files={"file": ("t.glb", exported(garment("top"), "glb"))},
                      timeout=60)
    assert r.status_code == 201 and r.json()["status"] == "done", r.text
    assert r.json()["id"] in check_consistent(live_app_dir)["cloth3d"]


def test_gradio_upload_route_is_limited(live_app: str) -> None:
    """Gradio's own upload route (where gradio_client sends files first) stops at the largest limit."""
    big = b"\0" * (51 * 2**20)
    r = requests.post(live_app + "/gradio_api/upload", files={"files": ("big.glb", big)}, timeout=60)
    assert r.status_code == 413, r.text[:200]
    small = requests.post(live_app + "/gradio_api/upload", files={"files": ("ok.jpg", photo_bytes())}, timeout=60)
    assert small.status_code == 200
    _health(live_app)
