"""Every server path a client can name, on every face: refused, and the server answers at once.

Against the real app (`python app.py`): the named Gradio API endpoints and the page's private events
(by `fn_index`) get FileData paths to files they must never touch; the file route gets the stored
objects by path. Before the fix, /dev/zero froze the server and /etc/shadow's existence leaked.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from tests.conftest import auth_headers, new_pg_database, photo_bytes, running_app

pytestmark = pytest.mark.slow
FILE_TYPES = {"image", "file", "model3d", "gallery"}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def app(request, tmp_path_factory):
    """The app on SQLite, then on PostgreSQL (the database file is an attacker's target on the first)."""
    data = tmp_path_factory.mktemp("paths") / "data"
    env = {"DB_URL": new_pg_database(request.getfixturevalue("postgres_server"))} if request.param == "postgres" else {}
    with running_app(data, env) as base:
        yield base, data, auth_headers(base)  # calls carry a user's token: the path checks, not the 401, refuse


def hostile_paths(data: Path) -> dict[str, str]:
    link = data.parent / "innocent.png"
    link.symlink_to("/etc/passwd")
    uploads = data / "gradio"
    return {"passwd": "/etc/passwd", "zero": "/dev/zero", "shadow": "/etc/shadow",
            "database": str(data / "fitroom.db"), "symlink": str(link),
            "traversal": f"{uploads}/../fitroom.db", "relative": "../../../../etc/passwd",
            "folder": str(uploads)}


def file_data(path: str) -> dict:
    return {"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": "x.png"}


def call(base: str, body: dict, headers: dict[str, str], timeout: float = 10.0) -> str:
    """One queued call (by api name or fn_index) to its end; returns its closing SSE messages."""
    session = uuid.uuid4().hex
    joined = requests.post(f"{base}/gradio_api/queue/join", json=body | {"session_hash": session}, timeout=timeout,
                           headers=headers)
    if joined.status_code != 200:
        return joined.text
    out = []
    with requests.get(f"{base}/gradio_api/queue/data", params={"session_hash": session}, stream=True,
                      timeout=timeout, headers=headers) as stream:
        for line in stream.iter_lines(decode_unicode=True):
            if line.startswith("data:"):
                msg = json.loads(line[5:])
                out.append(msg)
                if msg.get("msg") in ("process_completed", "close_stream", "unexpected_error"):
                    break
    return json.dumps(out)


def healthz_ms(base: str) -> float:
    t0 = time.perf_counter()
    assert requests.get(f"{base}/healthz", timeout=2).status_code == 200
    return (time.perf_counter() - t0) * 1000


def file_endpoints(base: str) -> list[tuple[str, dict]]:
    """(name, body) for every dependency that takes a file, with hostile paths filled in later."""
    config = requests.get(f"{base}/config", timeout=10).json()
    kinds = {c["id"]: c["type"] for c in config["components"]}
    found = []
    for index, dep in enumerate(config["dependencies"]):
        slots = [kinds.get(i) in FILE_TYPES for i in dep["inputs"]]
        if any(slots):
            found.append((dep.get("api_name") or f"fn {index}", {"fn_index": index, "slots": slots}))
    return found


def test_no_endpoint_opens_a_path_it_was_not_sent(app) -> None:
    base, data, headers = app
    endpoints = file_endpoints(base)
    names = {n for n, _ in endpoints}
    assert {"upload_image", "upload_garment_3d"} <= names and len(endpoints) >= 4  # and the page's own
    rows_before = (data / "objects").exists() and sorted(p.name for p in (data / "objects").rglob("*"))
    for what, path in hostile_paths(data).items():
        for name, spec in endpoints:
            body = {"fn_index": spec["fn_index"], "trigger_id": None,
                    "data": [file_data(path) if slot else None for slot in spec["slots"]]}
            t0 = time.monotonic()
            answer = call(base, body, headers)
            assert time.monotonic() - t0 < 10, f"{name} hung on {what}"
            assert "process_completed" in answer or "error" in answer.lower(), answer
            assert '"success": true' not in answer.replace("'", '"'), f"{name} accepted {what}: {answer[:300]}"
            assert "root:" not in answer and "PNG, JPEG or WebP" not in answer, f"{name} read {what}"
            assert "Who is calling" not in answer and "not valid" not in answer, f"{name}: refused for identity"
            assert healthz_ms(base) < 100, f"/healthz slow after {name} on {what}"
    assert ((data / "objects").exists() and sorted(p.name for p in (data / "objects").rglob("*"))) == rows_before


def test_named_api_refuses_by_name_too(app) -> None:
    base, data, headers = app
    for path in ("/etc/passwd", "/dev/zero", str(data / "fitroom.db")):
        r = requests.post(f"{base}/gradio_api/call/upload_image", timeout=5, headers=headers,
                          json={"data": [file_data(path), None, None]})
        assert r.status_code == 200
        events = requests.get(f"{base}/gradio_api/call/upload_image/{r.json()['event_id']}", timeout=10,
                              headers=headers).text
        assert "event: error" in events and "PNG, JPEG or WebP" not in events, events
        assert "Who is calling" not in events, events  # refused for the path, past the identity check
        assert healthz_ms(base) < 100


def test_a_real_upload_still_works_and_stays_inside_data_dir(app) -> None:
    base, data, headers = app
    up = requests.post(f"{base}/gradio_api/upload", files={"files": ("shirt.jpg", photo_bytes(), "image/jpeg")},
                       timeout=10)
    assert up.status_code == 200
    (path,) = up.json()
    assert Path(path).resolve().is_relative_to((data / "gradio").resolve())  # Gradio's folder is DATA_DIR's
    upload = dict(file_endpoints(base))["upload_image"]["fn_index"]
    answer = call(base, {"fn_index": upload, "data": [file_data(path), None, None]}, headers)
    assert '"success": true' in answer.replace("'", '"') and "uploaded" in answer, answer[:500]
    both = call(base, {"fn_index": upload, "data": [file_data(path), file_data(path), None]}, headers)
    assert '"success": true' in both.replace("'", '"') and "back_image_url" in both, both[:500]
    for hostile in ("/etc/passwd", str(data / "fitroom.db")):  # a good front does not let a bad back through
        answer = call(base, {"fn_index": upload, "data": [file_data(path), file_data(hostile), None]}, headers)
        assert '"success": true' not in answer.replace("'", '"') and '"success": false' in answer, answer[:500]
        assert "root:" not in answer and "SQLite" not in answer
    anonymous = call(base, {"fn_index": upload, "data": [file_data(path), None, None]}, {})
    assert "Who is calling" in anonymous, anonymous[:500]


def test_the_file_route_serves_no_stored_object_by_path(app) -> None:
    base, data, headers = app
    stored = requests.post(f"{base}/clothes/upload-image", files={"file": ("a.jpg", photo_bytes(), "image/jpeg")},
                           timeout=10, headers=headers)
    assert stored.status_code == 201, stored.text
    objects = [p for p in (data / "objects").rglob("*") if p.is_file()] or [data / "fitroom.db"]
    for target in [*objects[:3], data / "fitroom.db", Path("/etc/passwd"), data / "gradio" / ".." / "fitroom.db"]:
        for form in (str(target), quote(str(target))):
            r = requests.get(f"{base}/gradio_api/file={form}", timeout=5)
            assert r.status_code == 403, (form, r.status_code)
