"""Where a client reached the app: the root that records' URLs are made absolute against, for REST
and the Gradio API alike."""

from __future__ import annotations

from starlette.requests import Request


def base_url(request: Request | None) -> str:
    """The app's root as the client reached it, without a trailing slash (the scheme a trusted
    proxy forwarded included: uvicorn's FORWARDED_ALLOW_IPS); "" without a request."""
    return str(request.base_url).rstrip("/") if request is not None else ""
