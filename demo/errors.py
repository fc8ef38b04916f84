"""Error responses that cannot themselves fail: FastAPI's 422 echoes the input, and an input such as
`1e999` (infinite), NaN or a lone surrogate cannot be written back as JSON, which turned a client's
mistake into a 500."""

from __future__ import annotations

import json
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import Response


def validation_error(_request: Request, exc: RequestValidationError) -> Response:
    """422 with each error's type, location and message; the offending input is not echoed."""
    detail = [{"type": str(e.get("type", "")), "loc": [p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
               "msg": str(e.get("msg", ""))} for e in exc.errors()]
    return safe_json({"detail": detail}, 422)


def safe_json(content: Any, status_code: int) -> Response:
    """JSON that any str survives: escaped to ASCII (lone surrogates included), NaN refused."""
    body = json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return Response(body, status_code=status_code, media_type="application/json")
