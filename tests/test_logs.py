"""Quiet logs: a refused input is a message for the person, one JSON log line, no traceback; a bug
keeps its traceback, inside its JSON line."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import pytest
import requests

from core.logs import JsonFormatter
from demo.ui.errors import handled
from tests.conftest import authed_session, running_app

NOBODY = str(uuid.UUID(int=1))


@pytest.fixture(scope="module")
def info_app(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The app at LOG_LEVEL=INFO, where refusals are logged, and its log file."""
    data = tmp_path_factory.mktemp("logs") / "data"
    with running_app(data, {"LOG_LEVEL": "INFO"}) as base:
        yield base, data.parent / f"app-{base.rsplit(':', 1)[1]}.log"


@pytest.mark.slow
def test_ten_refused_inputs_are_ten_log_lines(info_app: tuple[str, Path], tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    base, log = info_app
    http = authed_session(base)
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    client = Client(base, verbose=False, headers=dict(http.headers))
    before = len(log.read_text())
    rest = [("get", "/clothes3d/not-an-id", {}, 400, "not a valid id"),
            ("get", f"/session/{NOBODY}/result", {}, 404, "No job with id"),
            ("post", f"/clothes/{NOBODY}/generate-3d", {"json": {"quality": "ultra"}}, 422, "body.quality"),
            ("post", "/clothes/upload-image", {"files": {"file": ("x.png", b"not an image")}}, 415, "PNG, JPEG"),
            ("post", "/clothes/upload-image", {"files": {"file": ("x.png", b"\0" * (11 << 20))}}, 413, "MB limit")]
    for method, path, kw, status, _ in rest:
        assert http.request(method, base + path, timeout=30, **kw).status_code == status, path
    assert requests.post(base + "/fit", json={}, timeout=10).status_code == 401  # no token
    gradio = [((handle_file(str(junk)),), "/upload_image", "not a PNG, JPEG or WebP"),
              (("nope",), "/get_result", "not a valid id"),
              ((NOBODY, "auto", "ultra"), "/generate_3d", "Unknown quality 'ultra'"),
              ((170, 90, 70, 95, "robot"), "/create_avatar", "Unknown gender 'robot'")]
    for args, api, message in gradio:
        with pytest.raises(Exception, match=message):
            client.predict(*args, api_name=api)
    text = log.read_text()[before:]
    lines = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    assert "Traceback" not in text and not [r for r in lines if r["level"] in ("error", "critical") or "exc" in r]
    refusals = [r for r in lines if r["msg"] == "refused" or (r["msg"] == "request" and r["status"] >= 400)]
    expected = [m for *_, m in rest] + ["Who is calling?"] + [m for *_, m in gradio]
    assert len(refusals) == len(expected) == 10, refusals
    for entry, message in zip(refusals, expected, strict=True):
        assert message in entry["detail"], (entry, message)


def test_a_bug_in_a_handler_keeps_its_traceback(caplog) -> None:
    """The page's handlers and the API's share this mapping (demo/ui/errors.py)."""
    def broken(x: str) -> str:
        return {}[x]

    with caplog.at_level(logging.INFO, "fitroom.ui"), pytest.raises(gr.Error, match="Internal error in broken"):
        handled(broken)("key")
    (record,) = caplog.records
    line = JsonFormatter().format(record)
    assert "\n" not in line and "KeyError" in json.loads(line)["exc"] and "Traceback" in json.loads(line)["exc"]
