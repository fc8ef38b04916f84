"""The Celery workers' entry point: run them with

    WORKER=celery REDIS_URL=redis://… DB_URL=postgresql+psycopg://… S3_ENDPOINT=… \\
        celery -A core.celery_app worker --concurrency 1

Celery's CLI looks up this module's `app`; it is built then, on first use, from the Settings a
worker has (its environment), by core/jobs/celery.py's factory. Importing the module builds nothing.
"""

from __future__ import annotations

from functools import cache

from celery import Celery

from core.config import get_settings
from core.jobs.celery import worker_app


@cache
def _app() -> Celery:
    return worker_app(get_settings())


def __getattr__(name: str) -> Celery:
    """`app` (what `celery -A core.celery_app` asks for), built once, when first asked for."""
    if name == "app":
        return _app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
