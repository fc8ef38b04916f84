"""No 500 from a client's input (odd texture modes, file names a database refuses, JSON numbers that
cannot be echoed), and every 500 that does happen is logged with its request id and counted."""

from __future__ import annotations

import io
import logging
import uuid

import pygltflib
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import select

from core.config import Settings
from core.context import context_for
from core.db import session_scope
from core.models import Cloth
from core.uploads import clean_filename
from tests.conftest import authorize, new_caller, photo_bytes
from tests.test_importer import exported, garment
from tests.test_metrics import key, samples


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from demo.server import create_app

    settings = Settings(data_dir=tmp_path_factory.mktemp("errors") / "data", job_workers=1)
    with TestClient(create_app(settings)) as c:
        yield authorize(c)


@pytest.fixture(scope="module")
def textured_glb() -> bytes:
    return exported(garment("top"), "glb")


def with_texture(glb: bytes, image: bytes, mime: str) -> bytes:
    """The GLB with its texture's bytes replaced."""
    doc = pygltflib.GLTF2.load_from_bytes(glb)
    blob = doc.binary_blob()
    blob += b"\0" * (-len(blob) % 4)
    doc.bufferViews.append(pygltflib.BufferView(buffer=0, byteOffset=len(blob), byteLength=len(image)))
    blob += image + b"\0" * (-len(image) % 4)
    doc.images[0].bufferView, doc.images[0].mimeType = len(doc.bufferViews) - 1, mime
    doc.buffers[0].byteLength = len(blob)
    doc.set_binary_blob(blob)
    return b"".join(doc.save_to_bytes())


def _image(mode: str, fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (64, 64)).save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize("mode,fmt", [("CMYK", "JPEG"), ("F", "TIFF"), ("LAB", "TIFF"), ("CMYK", "TIFF")])
def test_textures_in_modes_png_cannot_hold_are_converted(client, textured_glb, mode, fmt) -> None:
    """A CMYK JPEG is a valid glTF texture; trimesh wrote it back as PNG and failed (a 500)."""
    glb = with_texture(textured_glb, _image(mode, fmt), "image/jpeg" if fmt == "JPEG" else "image/png")
    r = client.post("/clothes3d/import", files={"file": ("t.glb", glb)}, data={"category": "top"})
    assert r.status_code == 201, r.text
    assert client.get(r.json()["glb_url"]).status_code == 200


def test_damaged_texture_is_no_500(client, textured_glb) -> None:
    """A truncated texture: imported without it, or refused; never a 500."""
    glb = with_texture(textured_glb, _image("RGB", "JPEG")[:200], "image/jpeg")
    r = client.post("/clothes3d/import", files={"file": ("t.glb", glb)}, data={"category": "top"})
    assert r.status_code in (201, 400), r.text


@pytest.mark.parametrize("name,kept", [("a\x00b.jpg", "ab.jpg"), ("\ud800x.jpg", "x.jpg"),
                                       ("\x1b[31mred.jpg", "[31mred.jpg"), ("evil\u202egpj.exe", "evilgpj.exe"),
                                       ("é" * 300 + ".jpg", "é" * 196 + ".jpg"),
                                       ("\x00\x01", None), ("", None), (None, None)])
def test_clean_filename(name, kept) -> None:
    assert clean_filename(name) == kept


@pytest.mark.both_dbs
def test_names_the_database_refuses_are_cleaned(settings) -> None:
    from demo.server import create_app

    with TestClient(create_app(settings)) as client:
        authorize(client)
        body = (b'--B\r\nContent-Disposition: form-data; name="file"; filename="a\x00b\x07.jpg"\r\n'
                b"Content-Type: image/jpeg\r\n\r\n" + photo_bytes() + b"\r\n--B--\r\n")  # httpx would escape NUL
        r = client.post("/clothes/upload-image", content=body,
                        headers={"content-type": "multipart/form-data; boundary=B"})
        assert r.status_code == 201, r.text
        svc = client.app.state.service
        surrogate = svc.upload_image(io.BytesIO(photo_bytes()), "\udcff\x00x.jpg", caller=new_caller(svc))
        with session_scope(context_for(settings).engine) as db:
            names = {c.id: c.original_name for c in db.exec(select(Cloth))}
        assert names == {r.json()["id"]: "ab.jpg", surrogate["id"]: "x.jpg"}
        assert (r.json()["filename"], surrogate["filename"]) == ("ab.jpg", "x.jpg")  # the record's label


@pytest.mark.parametrize("raw", ['1e999', '-1e999', 'NaN', 'Infinity', '1' + '0' * 400, '9' * 5000])
def test_numbers_that_cannot_be_echoed_are_a_422(client, raw) -> None:
    body = '{"height_cm": ' + raw + ', "chest_cm": 90, "waist_cm": 70, "hips_cm": 95, "gender": "male"}'
    r = client.post("/avatars", content=body, headers={"content-type": "application/json"})
    if len(raw) > 4300:  # past Python's limit on digits: the body does not parse at all
        assert r.status_code == 400 and r.json()["detail"], r.text
        return
    assert r.status_code == 422, r.text
    assert r.json()["detail"] and all({"type", "loc", "msg"} <= set(e) for e in r.json()["detail"])


def test_lone_surrogate_in_a_422_is_escaped(client) -> None:
    r = client.post("/avatars", content='{"gender": "\\ud800"}', headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][0] == "body"


def test_unhandled_error_is_logged_counted_and_a_json_500(client, monkeypatch, caplog) -> None:
    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(client.app.state.service, "get_result", broken)
    with caplog.at_level(logging.ERROR, logger="fitroom.http"):
        r = client.get(f"/avatars/{uuid.uuid4()}", headers={"x-request-id": "req-42"})
    assert r.status_code == 500 and r.json() == {"detail": "Internal error (request id req-42)"}
    assert r.headers["x-request-id"] == "req-42"
    [record] = [rec for rec in caplog.records if rec.getMessage() == "unhandled error"]
    assert record.request_id == "req-42" and record.exc_info and "a bug" in str(record.exc_info[1])
    found = samples(client.get("/metrics").text)
    assert found[key("fitroom_unhandled_errors_total", route="/avatars/{avatar_id}")] == 1
    assert found[key("fitroom_http_errors_total", route="/avatars/{avatar_id}", status="500")] == 1
