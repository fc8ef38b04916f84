"""Prometheus metrics. HTTP metrics are counted by the API process that served the request. Job
metrics are read from the DB when /metrics is scraped: jobs run in pool processes or on Celery workers
on other machines, and the DB is the one place that sees all of them."""

from __future__ import annotations

import time
from collections import defaultdict

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from sqlalchemy import func
from sqlmodel import select

from core.config import Settings
from core.context import context_for
from core.db import session_scope
from core.models import DONE, JOB_STATUSES, JOB_TABLES, PROCESSING, Cloth3D, FittingSession

STAGE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
UPLOAD_BUCKETS = tuple(2.0**k for k in range(10, 27, 2))  # 1 KiB … 64 MiB


class JobCollector:
    """Jobs by kind and status, queue depth, and stage durations of finished jobs (from their
    `timings`), all read from the DB; cached a few seconds so that scrapes stay cheap."""

    def __init__(self, settings: Settings, cache_s: float = 5.0) -> None:
        self.settings = settings
        self.cache_s = cache_s
        self._cached: tuple[float, list] = (0.0, [])

    def collect(self):
        now = time.monotonic()
        if now - self._cached[0] > self.cache_s:
            self._cached = (now, self._read())
        yield from self._cached[1]

    def _read(self) -> list:
        jobs = GaugeMetricFamily("fitroom_jobs", "Jobs by kind and status", labels=["kind", "status"])
        queued = GaugeMetricFamily("fitroom_queue_depth", "Jobs waiting for a worker", labels=["kind"])
        with session_scope(context_for(self.settings).engine) as s:
            for table in JOB_TABLES:
                kind = table.__tablename__
                counts = dict(s.exec(select(table.status, func.count()).group_by(table.status)).all())
                for status in JOB_STATUSES:
                    jobs.add_metric([kind, status], counts.get(status, 0))
                depth = s.exec(select(func.count()).select_from(table)
                               .where(table.status == PROCESSING, table.stage == "queued")).one()
                queued.add_metric([kind], depth)
            finished = [("cloth3d", model or "unknown", timings) for model, timings in s.exec(
                select(Cloth3D.model_used, Cloth3D.timings).where(Cloth3D.status == DONE))]
            finished += [("fittingsession", "fit", timings) for timings in s.exec(
                select(FittingSession.timings).where(FittingSession.status == DONE))]
        return [jobs, queued, self._stage_histogram(finished)]

    @staticmethod
    def _stage_histogram(finished: list[tuple[str, str, dict]]) -> HistogramMetricFamily:
        hist = HistogramMetricFamily("fitroom_job_stage_seconds", "Duration of each stage of finished jobs",
                                     labels=["kind", "stage", "model"])
        observed: dict[tuple[str, str, str], list[float]] = defaultdict(list)
        for kind, model, timings in finished:
            for stage, seconds in (timings or {}).items():
                observed[(kind, stage, model)].append(float(seconds))
        for labels, values in sorted(observed.items()):
            buckets = [(str(b), sum(v <= b for v in values)) for b in STAGE_BUCKETS]
            hist.add_metric(list(labels), [*buckets, ("+Inf", len(values))], sum_value=sum(values))
        return hist


class Metrics:
    """The registry /metrics serves: one per app."""

    def __init__(self, settings: Settings) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram("fitroom_request_seconds", "HTTP request latency by route",
                                 ["method", "route", "status"], registry=self.registry)
        self.errors = Counter("fitroom_http_errors", "HTTP responses with status 400 or above",
                              ["route", "status"], registry=self.registry)
        self.unhandled = Counter("fitroom_unhandled_errors", "Requests that ended in an unhandled exception (500)",
                                 ["route"], registry=self.registry)
        self.upload_bytes = Histogram("fitroom_upload_bytes", "Declared size of upload request bodies",
                                      ["route"], buckets=UPLOAD_BUCKETS, registry=self.registry)
        self.registry.register(JobCollector(settings))

    def observe(self, method: str, route: str, status: int, seconds: float, upload_bytes: int | None) -> None:
        """`route` must be a template or a fixed path (uploads are counted only on fixed paths)."""
        self.latency.labels(method, route, str(status)).observe(seconds)
        if status >= 400:
            self.errors.labels(route, str(status)).inc()
        if upload_bytes is not None:
            self.upload_bytes.labels(route).observe(upload_bytes)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
