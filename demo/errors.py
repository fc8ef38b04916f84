"""Error responses that cannot themselves fail: FastAPI's 422 echoes the input, and an input such as
`1e999` (infinite), NaN or a lone surrogate cannot be written back as JSON, which turned a client's
mistake into a 500."""

from __future__ import annotations

import json
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

REFUSAL = "refusal"  # the scope state's key for what an error answer told the client


def note_refusal(scope: Scope, message: str) -> None:
    """What an error answer told the client, for the request's one log line (a refusal is a
    message for the client, never a traceback in the log)."""
    scope.setdefault("state", {})[REFUSAL] = message[:500]


def validation_error(request: Request, exc: RequestValidationError) -> Response:
    """422 with each error's type, location and message; the offending input is not echoed."""
    detail = [{"type": str(e.get("type", "")), "loc": [p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
               "msg": str(e.get("msg", ""))} for e in exc.errors()]
    note_refusal(request.scope, "; ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in detail))
    return safe_json({"detail": detail}, 422)


def safe_json(content: Any, status_code: int) -> Response:
    """JSON that any str survives: escaped to ASCII (lone surrogates included), NaN refused."""
    body = json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return Response(body, status_code=status_code, media_type="application/json")
