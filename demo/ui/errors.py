"""What the page and the Gradio API tell a person when an input is refused or a job failed."""

from __future__ import annotations

import logging

import gradio as gr

log = logging.getLogger("fitroom.ui")


def refused(message: object) -> gr.Error:
    """The message as a gr.Error, and one log line: a refusal is no bug, so Gradio prints no
    traceback for it (it does for every gr.Error by default)."""
    text = str(message)
    log.info("refused", extra={"detail": text[:500]})
    return gr.Error(text, print_exception=False)
