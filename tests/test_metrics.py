"""/metrics in the Prometheus text format (parsed back with prometheus_client), job metrics from the
DB, and JSON logs with request and job ids at LOG_LEVEL."""

from __future__ import annotations

import json
import logging

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from core.context import context_for
from core.db import init_db, session_scope
from core.logs import JsonFormatter, configure_logging, job_context
from core.metrics import JobCollector
from core.models import Cloth3D, FittingSession
from tests.conftest import authed_session, photo_bytes


def samples(text: str) -> dict[tuple, float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def key(name: str, **labels: str) -> tuple:
    return name, tuple(sorted(labels.items()))


@pytest.mark.both_dbs
def test_job_metrics_come_from_the_db(settings) -> None:
    ctx = context_for(settings)
    init_db(ctx.engine)
    with session_scope(ctx.engine) as s:
        s.add(Cloth3D(cloth_id="c", status="done", model_used="silhouette", timings={"cut-out": 0.2, "export": 3.0}))
        s.add(Cloth3D(cloth_id="c", status="done", model_used="silhouette", timings={"cut-out": 0.04}))
        s.add(Cloth3D(cloth_id="c", stage="queued"))
        s.add(FittingSession(cloth3d_id="g", avatar_preset_id="a", status="error"))
        s.add(FittingSession(cloth3d_id="g", avatar_preset_id="a", status="done", timings={"settle": 0.7}))
        s.commit()
    found = {}
    for fam in JobCollector(settings).collect():
        found |= {(x.name, tuple(sorted(x.labels.items()))): x.value for x in fam.samples}
    assert found[("fitroom_jobs", (("kind", "cloth3d"), ("status", "done")))] == 2
    assert found[("fitroom_jobs", (("kind", "fittingsession"), ("status", "error")))] == 1
    assert found[("fitroom_queue_depth", (("kind", "cloth3d"),))] == 1
    cut = {"kind": "cloth3d", "model": "silhouette", "stage": "cut-out"}
    assert found[key("fitroom_job_stage_seconds_bucket", le="0.05", **cut)] == 1
    assert found[key("fitroom_job_stage_seconds_bucket", le="0.25", **cut)] == 2
    assert found[key("fitroom_job_stage_seconds_bucket", le="+Inf", **cut)] == 2
    assert found[key("fitroom_job_stage_seconds_sum", **cut)] == pytest.approx(0.24)
    assert found[key("fitroom_job_stage_seconds_count", kind="cloth3d", model="silhouette", stage="export")] == 1
    assert found[key("fitroom_job_stage_seconds_sum", kind="fittingsession", model="fit", stage="settle")] == 0.7


@pytest.mark.slow
def test_metrics_endpoint(live_app: str) -> None:
    user = authed_session(live_app)
    requests.get(live_app + "/healthz", timeout=10)
    assert user.get(live_app + "/clothes3d/not-an-id", timeout=10).status_code == 400
    assert requests.get(live_app + "/fittings", timeout=10).status_code == 401
    photo = photo_bytes("top")
    uploaded = user.post(live_app + "/clothes/upload-image", files={"file": ("t.jpg", photo)}, timeout=30)
    assert uploaded.status_code == 201, uploaded.text
    r = requests.get(live_app + "/metrics", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    got = samples(r.text)
    ok = ("fitroom_request_seconds_count", (("method", "GET"), ("route", "/healthz"), ("status", "200")))
    assert got[ok] >= 1
    bad = [k for k in got if k[0] == "fitroom_http_errors_total" and ("route", "/clothes3d/{cloth3d_id}") in k[1]]
    assert bad and all(got[k] >= 1 for k in bad), sorted(k for k in got if k[0].startswith("fitroom_http"))
    refused = [k for k in got if k[0] == "fitroom_http_errors_total" and ("route", "/fittings") in k[1]]
    assert refused, "a 401 is counted as an error of its route"
    assert got[("fitroom_upload_bytes_count", (("route", "/clothes/upload-image"),))] >= 1
    assert got[("fitroom_upload_bytes_sum", (("route", "/clothes/upload-image"),))] > len(photo)
    assert ("fitroom_queue_depth", (("kind", "cloth3d"),)) in got
    assert not [k for k in got if "not-an-id" in str(k)], "raw paths must not become labels"


@pytest.fixture
def root_logging():
    """configure_logging replaces the root handlers: put the originals back after the test."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    yield
    root.handlers[:], _ = saved
    root.setLevel(saved[1])


def test_json_logs_carry_job_id_and_honour_level(capsys, root_logging) -> None:
    configure_logging("WARNING")
    log = logging.getLogger("fitroom.test")
    log.info("hidden")
    with job_context("job-123"):
        log.warning("inside", extra={"stage": "export"})
    log.warning("outside")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(x["msg"], x.get("job_id")) for x in lines] == [("inside", "job-123"), ("outside", None)]
    assert lines[0]["stage"] == "export" and lines[0]["level"] == "warning"
    assert isinstance(logging.getLogger().handlers[0].formatter, JsonFormatter)
