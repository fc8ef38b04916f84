"""The one process: FastAPI with the REST routes, /healthz, request logs, and Gradio mounted at /."""

from __future__ import annotations

import logging
import time
import uuid
from contextlib import asynccontextmanager

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from core.config import Settings
from core.context import context_for
from core.errors import FitroomError, PayloadTooLarge
from core.jobs import make_runner
from core.metrics import Metrics
from core.service import FitroomService
from demo.rest import build_router
from demo.ui.blocks import CSS, EXAMPLES_DIR, build_ui

log = logging.getLogger("fitroom.http")
UPLOAD_LIMITS = {"/clothes/upload-image": "max_upload_mb", "/clothes3d/import": "max_import_mb"}


def create_app(settings: Settings) -> FastAPI:
    ctx = context_for(settings)
    runner = make_runner(settings)
    service = FitroomService(ctx, runner)
    started = service.start()
    log.info("started", extra=started)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        runner.close()

    app = FastAPI(title="Fitroom 3D", version="0.1.0", lifespan=lifespan)
    app.state.service = service
    metrics = Metrics(settings)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    @app.exception_handler(FitroomError)
    async def fitroom_error(_request: Request, exc: FitroomError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status_code)

    @app.middleware("http")
    async def request_log(request: Request, call_next):
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        t0 = time.perf_counter()
        length = request.headers.get("content-length", "")
        limit_mb = getattr(settings, UPLOAD_LIMITS.get(request.url.path, ""), None)
        if limit_mb and length.isdigit() and int(length) > limit_mb * 2**20 + 64 * 1024:
            # Refused before the body is read: the declared size is already too large.
            exc = PayloadTooLarge(f"The upload is larger than the {limit_mb:g} MB limit.")
            response = JSONResponse({"detail": str(exc)}, status_code=exc.status_code)
        else:
            response = await call_next(request)
        response.headers["x-request-id"] = request_id
        seconds = time.perf_counter() - t0
        log.info("request", extra={"request_id": request_id, "method": request.method,
                                   "route": request.url.path, "status": response.status_code,
                                   "duration_ms": round(seconds * 1000, 1)})
        # Labelled by the route's template (/clothes3d/{id}), never the raw path: bounded series.
        upload = request.url.path in UPLOAD_LIMITS
        route = request.url.path if upload else getattr(request.scope.get("route"), "path", None) or "other"
        metrics.observe(request.method, route, response.status_code, seconds,
                        int(length) if upload and length.isdigit() else None)
        return response

    app.include_router(build_router(service))
    blocks = build_ui(service)
    blocks.queue(default_concurrency_limit=8)
    return gr.mount_gradio_app(app, blocks, path="/", footer_links=["api"], css=CSS,
                               allowed_paths=[str(settings.objects_dir.resolve()),
                                              str(settings.cache_dir.resolve()), str(EXAMPLES_DIR)])
