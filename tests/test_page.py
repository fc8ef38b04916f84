"""The page's wiring, built without a server: every handler, the page's and the API's, goes through
the one error mapping (demo/ui/errors.py), so a refusal reads the same everywhere and a bug keeps
its traceback in the log."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import gradio as gr
import pytest

from core.config import Settings
from core.context import context_for
from core.service import FitroomService
from demo.gradio_files import upload_folder
from demo.ui.blocks import build_ui
from demo.ui.errors import handled

MAPPED = handled(lambda: None).__code__  # the code every mapped handler runs first


@pytest.fixture(scope="module")
def handlers(tmp_path_factory) -> dict[str, object]:
    """The page's and the API's handlers by their Gradio name (no runner: nothing here starts a job)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("page") / "data", job_workers=1)
    folder = upload_folder(settings)
    folder.mkdir(parents=True)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GRADIO_TEMP_DIR", str(folder))  # where the examples are copied, as the server sets it
        blocks = build_ui(FitroomService(context_for(settings), None))
    return {fn.api_name: fn.fn for fn in blocks.fns.values()}


def test_every_handler_goes_through_the_one_error_mapping(handlers) -> None:
    ours = {name: fn for name, fn in handlers.items() if name != "load_example"}  # gr.Examples' own loader
    unmapped = [name for name, fn in ours.items() if getattr(fn, "__func__", fn).__code__ is not MAPPED]
    assert not unmapped and len(ours) == 38
    assert {"new_token", "upload_image", "generate_3d", "list_presets", "fit", "get_result", "upload_garment_3d",
            "create_avatar", "photo_to_3d", "dress"} <= set(ours)


def test_a_page_event_without_the_page_is_refused(handlers) -> None:
    with pytest.raises(gr.Error, match="Please reload the page"):
        handlers["on_fit"](["g"], "a", "regular", False, [], None, None)


def test_a_bug_in_a_page_handler_is_logged_with_its_traceback(handlers, caplog) -> None:
    with caplog.at_level(logging.INFO, "fitroom.ui"), pytest.raises(gr.Error, match="Internal error in on_select"):
        handlers["on_select_avatar"]([], SimpleNamespace(index=0))  # no such tile: a bug, not a refusal
    (record,) = caplog.records
    assert record.exc_info and record.exc_info[0] is IndexError
