"""What the page and the Gradio API tell a person when an input is refused, a job failed or a
handler has a bug: one mapping, used by every handler of both."""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
from collections.abc import Callable, Iterator
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
    lines), and the person reads that it is logged. A generator (a handler that sends its outputs
    in more than one update) is mapped alike, over all its updates."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def updates(*args: Any, **kwargs: Any) -> Any:
            with _mapped(fn.__name__):
                yield from fn(*args, **kwargs)
        return updates

    @functools.wraps(fn)  # keeps the signature: Gradio names the API parameters and injects from it
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _mapped(fn.__name__):
            return fn(*args, **kwargs)
    return wrapper


@contextlib.contextmanager
def _mapped(name: str) -> Iterator[None]:
    try:
        yield
    except FitroomError as exc:
        raise refused(exc) from None
    except gr.Error:
        raise
    except Exception:
        log.exception("handler failed", extra={"handler": name})
        raise gr.Error(f"Internal error in {name}; it is logged on the server.", print_exception=False) from None
