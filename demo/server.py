"""The one process: FastAPI with the REST routes, /healthz, request logs, and Gradio mounted at /."""

from __future__ import annotations

import logging
import time
import uuid
from contextlib import asynccontextmanager

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from core.config import Settings
from core.context import context_for
from core.errors import FitroomError, TooManyRequests, Unauthorized
from core.jobs import make_runner
from core.metrics import Metrics
from core.service import FitroomService
from demo.errors import REFUSAL, note_refusal, validation_error
from demo.gradio_files import GradioFileGuard, use_upload_folder
from demo.limits import BodyLimit
from demo.rest import build_router
from demo.timeouts import BodyTimeout
from demo.ui.blocks import CSS, EXAMPLES_DIR, build_ui
from demo.ui.viewer3d import VIEWER_DIR, VIEWER_ROUTE

log = logging.getLogger("fitroom.http")
UPLOAD_LIMITS = {"/clothes/upload-image": "max_upload_mb", "/clothes3d/import": "max_import_mb"}
MULTIPART_SLACK = 64 * 1024  # form boundaries and fields around the file


def create_app(settings: Settings) -> FastAPI:
    """The app that app.py serves with uvicorn: Gradio mounted at / on our FastAPI app."""
    app, blocks, options = build_app(settings, FastAPI)
    app = gr.mount_gradio_app(app, blocks, path="/", **options)
    # Gradio checks that every file a client names is one it uploaded only once launch() has run,
    # which a mounted app never calls: without this, a client names /etc/shadow or /dev/zero.
    blocks.has_launched = True
    return app


def build_app(settings: Settings, app_class: type[FastAPI]) -> tuple[FastAPI, gr.Blocks, dict]:
    """A new `app_class` app with the REST routes, /metrics, the middleware and the handlers; the
    Blocks; and the options Gradio is served with (mounted by `create_app`, or through Gradio's
    own launch() on ZeroGPU: demo/launch.py). Long because it is the app's wiring in the order it
    must happen (the service started before the runner, the body limits inside the request log,
    CORS outermost), which reads best top to bottom."""
    ctx = context_for(settings)
    runner = make_runner(settings)
    service = FitroomService(ctx, runner)
    started = service.start()
    runner.start()  # after the presets are seeded: the workers warm their bodies (/healthz waits for them)
    service.warm_up()  # meanwhile, this process
    log.info("started", extra=started)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        runner.close()

    # Before the app and the Blocks are made (Gradio's own app reads it too): see demo/gradio_files.py
    uploads = use_upload_folder(settings)
    app = app_class(title="Fitroom 3D", version="0.1.0", lifespan=lifespan)
    app.state.service = service
    metrics = Metrics(settings)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    @app.exception_handler(FitroomError)
    async def fitroom_error(request: Request, exc: FitroomError) -> JSONResponse:
        note_refusal(request.scope, str(exc))
        headers = ({"retry-after": str(exc.retry_after_s)} if isinstance(exc, TooManyRequests)
                   else {"www-authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None)
        return JSONResponse({"detail": str(exc)}, status_code=exc.status_code, headers=headers)

    app.add_exception_handler(RequestValidationError, validation_error)

    limits = {path: int(getattr(settings, name) * 2**20) + MULTIPART_SLACK for path, name in UPLOAD_LIMITS.items()}
    app.add_middleware(GradioFileGuard, roots=(uploads, EXAMPLES_DIR), folder=uploads,
                       quota_bytes=int(settings.gradio_upload_quota_mb * 2**20), quotas=service.quotas,
                       max_body=max(limits.values()))
    app.add_middleware(BodyLimit, limits=limits)  # refused while the body streams in, never read whole;
    app.add_middleware(BodyTimeout, idle_s=settings.body_timeout_s, total_s=settings.body_deadline_s)
    # both added before the request log, so that the log (outside them) records and counts their 413s, 408s

    @app.middleware("http")
    async def request_log(request: Request, call_next):
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        t0 = time.perf_counter()
        length = request.headers.get("content-length", "")
        failed = False
        try:
            response = await call_next(request)
        except Exception:  # any bug: logged, counted and answered here, not lost outside this log
            failed = True
            log.exception("unhandled error", extra={"request_id": request_id, "method": request.method,
                                                    "route": request.url.path})
            response = JSONResponse({"detail": f"Internal error (request id {request_id})"}, status_code=500)
        response.headers["x-request-id"] = request_id
        seconds = time.perf_counter() - t0
        told = request.scope.get("state", {}).get(REFUSAL)  # a 4xx's message: its one line says why
        log.log(logging.WARNING if response.status_code >= 500 else logging.INFO, "request",
                extra={"request_id": request_id, "method": request.method, "route": request.url.path,
                       "status": response.status_code, "duration_ms": round(seconds * 1000, 1)}
                | ({"detail": told} if told else {}))
        # Labelled by the route's template (/clothes3d/{id}), never the raw path: bounded series.
        upload = request.url.path in UPLOAD_LIMITS
        route = request.url.path if upload else getattr(request.scope.get("route"), "path", None) or "other"
        metrics.observe(request.method, route, response.status_code, seconds,
                        int(length) if upload and length.isdigit() else None)
        if failed:
            metrics.unhandled.labels(route).inc()
        return response

    # Closed by default: only the origins named in CORS_ORIGINS may call the API from a browser.
    app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origin_list, allow_methods=["GET", "POST"],
                       allow_headers=["content-type", "x-request-id", "authorization"], expose_headers=["x-request-id"])
    app.include_router(build_router(service))
    app.mount(VIEWER_ROUTE, StaticFiles(directory=VIEWER_DIR), name="viewer")  # the page's 3D viewer and three.js
    blocks = build_ui(service)
    blocks.queue(default_concurrency_limit=8, max_size=256)  # a flood of queued events is refused, not held
    # allowed_paths lets Gradio copy the stored objects that the page shows into its hashed cache
    # (GradioFileGuard refuses them by path); its uploads are limited to our largest limit.
    options = dict(footer_links=["api"], css=CSS, max_file_size=max(limits.values()),
                   allowed_paths=[str(settings.objects_dir.resolve()), str(settings.cache_dir.resolve()),
                                  str(EXAMPLES_DIR)])
    return app, blocks, options
