"""Which server files the Gradio face touches on a client's word: only Gradio's upload folder (inside
DATA_DIR, with a quota) and the app's own examples.

A client names files to Gradio by path (`{"path": …, "meta": {"_type": "gradio.FileData"}}`) and
fetches them by path (`/gradio_api/file=<path>`). Gradio checks input paths only once its `launch()`
has run, which a FastAPI-mounted app never calls, so this module switches that check on, checks
every path again where the app opens it, and guards the file route, which serves anything under
`allowed_paths` by path — there, the stored objects of every user.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path
from urllib.parse import unquote

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from core.config import Settings
from core.errors import InputError, PayloadTooLarge, TooManyRequests
from core.quotas import Quotas

FILE_ROUTE = "/gradio_api/file="
UPLOAD_ROUTE = "/gradio_api/upload"


def upload_folder(settings: Settings) -> Path:
    return (settings.data_dir / "gradio").resolve()


def use_upload_folder(settings: Settings) -> Path:
    """Gradio reads its upload folder from GRADIO_TEMP_DIR, when each component is made and when a
    path is checked: set before the Blocks are built, it keeps uploads inside DATA_DIR."""
    folder = upload_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    return folder


def _inside(path: Path, roots: tuple[Path, ...]) -> bool:
    return any(path.is_relative_to(root) for root in roots)


def client_file(name: str | os.PathLike | None, roots: tuple[Path, ...], max_bytes: int) -> Path:
    """A file a client named: a regular file (no device, pipe or folder) under one of `roots` after
    every link is followed, and no larger than `max_bytes` — checked before a byte is read."""
    if not name:
        raise InputError("No file was sent.")
    try:
        path = Path(name).resolve(strict=True)
        info = path.stat()
    except (OSError, RuntimeError, ValueError):
        raise InputError("The file was not uploaded to this server; upload it first.") from None
    if not _inside(path, roots) or not stat.S_ISREG(info.st_mode):
        raise InputError("The file was not uploaded to this server; upload it first.")
    if info.st_size > max_bytes:
        raise PayloadTooLarge(f"The file is larger than the {max_bytes / 2**20:g} MB limit.")
    return path


class GradioFileGuard:
    """ASGI middleware in front of Gradio: `/gradio_api/file=` serves only the upload folder and the
    examples (Gradio's hashed cache of outputs lives in the upload folder), and `/gradio_api/upload`
    is refused while the folder holds more than its quota or its client more than theirs."""

    def __init__(self, app: ASGIApp, roots: tuple[Path, ...], folder: Path, quota_bytes: int, quotas: Quotas,
                 max_body: int, recount_s: float = 10.0) -> None:
        self.app = app
        self.quotas = quotas
        self.max_body = max_body
        self.roots = roots
        self.folder = folder
        self.quota_bytes = quota_bytes
        self.recount_s = recount_s
        self._size, self._counted_at = 0, -float("inf")
        self._lock = threading.Lock()

    def folder_bytes(self) -> int:
        """The upload folder's size, recounted at most every `recount_s` (a walk per upload would
        cost more than the upload)."""
        with self._lock:
            if time.monotonic() - self._counted_at >= self.recount_s:
                total = 0
                for base, _dirs, files in os.walk(self.folder):
                    for f in files:
                        try:
                            total += os.lstat(os.path.join(base, f)).st_size
                        except OSError:
                            continue  # deleted meanwhile by Gradio's cache cleaner
                self._size, self._counted_at = total, time.monotonic()
            return self._size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith(FILE_ROUTE):
            try:
                target = Path(unquote(path[len(FILE_ROUTE):])).resolve()
                allowed = _inside(target, self.roots)
            except (OSError, RuntimeError, ValueError):
                allowed = False
            if not allowed:
                await JSONResponse({"detail": "File not allowed."}, status_code=403)(scope, receive, send)
                return
        elif path == UPLOAD_ROUTE:
            if self.folder_bytes() > self.quota_bytes:
                await JSONResponse({"detail": "The server holds too many uploads right now; try again in a few "
                                              "minutes."}, status_code=507,
                                   headers={"retry-after": "300"})(scope, receive, send)
                return
            declared = dict(scope["headers"]).get(b"content-length", b"")
            client = scope.get("client")
            try:  # a body of unknown length is charged as the largest one allowed
                self.quotas.check_transfer(client[0] if client else None,
                                           int(declared) if declared.isdigit() else self.max_body)
            except TooManyRequests as exc:
                await JSONResponse({"detail": str(exc)}, status_code=exc.status_code,
                                   headers={"retry-after": str(exc.retry_after_s)})(scope, receive, send)
                return
        await self.app(scope, receive, send)
