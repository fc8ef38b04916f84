"""What the page and the Gradio API tell a person when an input is refused, a job failed or a
handler has a bug: one mapping, used by every handler of both."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import gradio as gr

from core.errors import FitroomError

log = logging.getLogger("fitroom.ui")


def refused(message: object) -> gr.Error:
    """The message as a gr.Error, and one log line: a refusal is no bug, so Gradio prints no
    traceback for it (it does for every gr.Error by default)."""
    text = str(message)
    log.info("refused", extra={"detail": text[:500]})
    return gr.Error(text, print_exception=False)


def handled(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Service errors become gr.Error: a readable message on the page and in gradio_client, one log
    line. A bug is one JSON log line with its traceback (Gradio would print it raw between the JSON
    lines), and the person reads that it is logged."""
    @functools.wraps(fn)  # keeps the signature: Gradio names the API parameters and injects from it
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except FitroomError as exc:
            raise refused(exc) from None
        except gr.Error:
            raise
        except Exception:
            log.exception("handler failed", extra={"handler": fn.__name__})
            raise gr.Error(f"Internal error in {fn.__name__}; it is logged on the server.",
                           print_exception=False) from None
    return wrapper
