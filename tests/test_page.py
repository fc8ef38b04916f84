"""The page's wiring, built without a server: every handler, the page's and the API's, goes through
the one error mapping (demo/ui/errors.py), so a refusal reads the same everywhere and a bug keeps
its traceback in the log; and what keeps a finished job's update quick on a slow machine (the wait
that sees the job end, the one component each event draws its progress on)."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import gradio as gr
import pytest

from core.config import Settings
from core.context import context_for
from core.db import init_db
from core.identity import Caller
from core.samples import draw_garment
from core.service import FitroomService
from demo.gradio_files import upload_folder
from demo.ui import progress as waiting
from demo.ui.blocks import build_ui
from demo.ui.errors import handled
from demo.ui.results import OUTPUTS, Results
from demo.ui.viewer3d import GlbView, ModelUrl


def _updates():
    yield


MAPPED = {handled(lambda: None).__code__, handled(_updates).__code__}  # the code every mapped handler runs first


@pytest.fixture(scope="module")
def handlers(tmp_path_factory) -> dict[str, object]:
    """The page's and the API's handlers by their Gradio name (no runner: nothing here starts a job)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("page") / "data", job_workers=1)
    folder = upload_folder(settings)
    folder.mkdir(parents=True)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GRADIO_TEMP_DIR", str(folder))  # where the examples are copied, as the server sets it
        blocks = build_ui(FitroomService(context_for(settings), None))
    return {fn.api_name: fn for fn in blocks.fns.values()}


def test_every_handler_goes_through_the_one_error_mapping(handlers) -> None:
    ours = {name: f.fn for name, f in handlers.items() if name != "load_example"}  # gr.Examples' own loader
    unmapped = [name for name, fn in ours.items() if getattr(fn, "__func__", fn).__code__ not in MAPPED]
    assert not unmapped and len(ours) == 39
    assert {"new_token", "upload_image", "generate_3d", "list_presets", "fit", "get_result", "upload_garment_3d",
            "create_avatar", "photo_to_3d", "dress"} <= set(ours)


def test_a_page_event_without_the_page_is_refused(handlers) -> None:
    with pytest.raises(gr.Error, match="The page is not ready"):
        next(handlers["on_fit"].fn(["g"], "a", "regular", False, [], None, None))  # a generator: its first update


def test_a_bug_in_a_page_handler_is_logged_with_its_traceback(handlers, caplog) -> None:
    with caplog.at_level(logging.INFO, "fitroom.ui"), pytest.raises(gr.Error, match="Internal error in on_select"):
        handlers["on_select_avatar"].fn([], SimpleNamespace(index=0))  # no such tile: a bug, not a refusal
    (record,) = caplog.records
    assert record.exc_info and record.exc_info[0] is IndexError


def test_a_page_event_draws_its_progress_on_its_viewer_alone(handlers) -> None:
    """Gradio's page redraws every component that has shown progress at each status message: an
    event that shows a garment or a fitting draws it on its viewer (an output, set by that event's
    own update), and the quiet events that follow on one component."""
    views = {name: handlers[name].outputs[index] for name, index in
             (("on_generate", 2), ("on_fit", 0))}  # Page.garment_outputs and fit_outputs: the viewer
    assert {type(v).__name__ for v in views.values()} == {"GlbView"}
    for name in ("on_generate", "on_example", "on_import", "on_reopen_garment", "on_garment_link"):
        assert handlers[name].show_progress_on == [views["on_generate"]], name
    for name in ("on_fit", "on_reopen_fit", "on_fit_link"):
        assert handlers[name].show_progress_on == [views["on_fit"]], name
    for name in ("on_garment_extras", "on_fit_extras", "bare_avatar", "on_load", "on_build_avatar"):
        assert len(handlers[name].show_progress_on or ()) == 1, name


def test_a_generated_garment_is_shown_in_one_update_its_extras_follow(handlers) -> None:
    """What follows Generate 3D while the viewer draws is its extras alone: the button that makes it
    again as another category comes in its own update."""
    for name in ("on_generate", "on_generate_1"):  # the button, and making it again as another category
        generate = handlers[name]
        assert "recategory" in {getattr(c, "elem_id", None) for c in generate.outputs}
        after = [f.name for f in handlers.values() if f.trigger_after == generate._id]
        assert after == ["on_garment_extras"], name


@pytest.mark.parametrize("waits", [True, False], ids=["local-storage", "s3"])
@pytest.mark.parametrize("name, viewer, status", [("on_generate", "garment-view", "gen-status"),
                                                   ("on_fit", "fitted-view", "fit-status")])
def test_a_job_s_model_is_asked_for_as_it_starts_then_goes_out_viewer_first(handlers, monkeypatch, name, viewer,
                                                                           status, waits) -> None:
    """As the job starts, the viewer alone, set to a URL the app answers once the model is written
    (where the storage can hold a request); when it is done, the viewer (the same model) and the
    status line alone, then every other output; together the whole result, each output set once."""
    handler = handlers[name]
    step = handler.fn.__self__
    shown = tuple(f"value {i}" for i in range(OUTPUTS["garment" if name == "on_generate" else "fitting"]))
    asked_as: list[bool] = []
    urls = {True: "/files/k?expires=1&sig=s&wait=195", False: "/files/k?expires=1&sig=s"}
    monkeypatch.setattr(step.service, "get_result", lambda *a, **kw: {"category": "top", "stats": {}})
    monkeypatch.setattr(step.service, "model_url",
                        lambda job_id, caller, wait_s=0: urls[bool(wait_s)] if waits or not wait_s else None)
    if name == "on_generate":
        monkeypatch.setattr(step, "stage", lambda *a: "cloth")
        monkeypatch.setattr(step.service, "generate_3d", lambda *a, **kw: {"id": "j"})
        monkeypatch.setattr("demo.ui.photo.garment_done", lambda *a, **kw: {"id": "j", "log": "", "model_used": "m"})
        monkeypatch.setattr(step.results, "garment", lambda *a, asked, **kw: asked_as.append(asked) or shown)
        updates = list(step.on_generate("photo.png", None, "auto", "low", "auto", [], [], Caller("u" * 32), None))
    else:
        monkeypatch.setattr(step.service, "fit", lambda *a, **kw: {"id": "j"})
        monkeypatch.setattr("demo.ui.fitting.fitting_done", lambda *a, **kw: {"id": "j"})
        monkeypatch.setattr(step.results, "fitting", lambda *a, asked, **kw: asked_as.append(asked) or shown)
        updates = list(step.on_fit(["g"], "a", "regular", False, [], Caller("u" * 32), None))
    assert asked_as == [waits]
    ids = [getattr(c, "elem_id", None) for c in handler.outputs]
    assert all(len(update) == len(ids) for update in updates)
    skip = gr.skip()
    if waits:
        early, *updates = updates
        assert {ids[i] for i, value in enumerate(early) if value != skip} == {viewer}
        url = early[ids.index(viewer)]
        assert isinstance(url, ModelUrl) and url == urls[True]
    first, rest = updates
    sent_first = {ids[i] for i, value in enumerate(first) if value != skip}
    assert sent_first == {viewer, status}
    for i, value in enumerate(first[:len(shown)]):
        assert (value if value != skip else rest[i]) == shown[i]  # each output's value, in one of the two
        assert (value == skip) != (rest[i] == skip)


def test_the_viewer_s_value_for_a_finished_job(monkeypatch, tmp_path) -> None:
    """The model's URL when it was asked for as the job started (the viewer keeps what it loaded),
    else its file; as the page gets it, relative to the page (which may sit under a prefix)."""
    results = Results.__new__(Results)
    results.service = SimpleNamespace(model_url=lambda job_id, caller, wait_s=0: f"/files/{job_id}.glb?sig=x")
    asked = results.model("j", tmp_path / "m.glb", Caller("u" * 32), asked=True)
    assert isinstance(asked, ModelUrl) and GlbView().postprocess(asked) == "files/j.glb?sig=x"
    assert results.model("j", tmp_path / "m.glb", Caller("u" * 32), asked=False) == str(tmp_path / "m.glb")


class Job:
    """A job's record as the service shows it, going through `stages` one poll each, then done."""

    def __init__(self, stages: list[str]) -> None:
        self.stages, self.polls = stages, 0

    def get_result(self, job_id: str, caller: object) -> dict:
        self.polls += 1
        if self.polls > len(self.stages):
            return {"id": job_id, "status": "done", "stage": "done"}
        return {"id": job_id, "status": "processing", "stage": self.stages[self.polls - 1]}


def test_the_page_sees_a_job_end_within_100_ms_and_sends_only_its_stages(monkeypatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(waiting.time, "sleep", sleeps.append)
    sent: list[tuple] = []
    job = Job(["queued", "started", "started", "cut-out", "cut-out", "cut-out", "reconstruction"])
    done = waiting.wait(job, "j", ["queued", "started", "cut-out", "reconstruction"],
                        lambda step, desc: sent.append((step, desc)), 60, None, every=None)
    assert done["status"] == "done"
    assert sleeps and max(sleeps) <= 0.1  # the job's end is seen within 100 ms of it
    assert sent == [((0, 4), "queued"), ((1, 4), "started"), ((2, 4), "cut-out"), ((3, 4), "reconstruction")]


def test_a_picked_photo_is_uploaded_then_and_its_generate_click_waits_for_the_job_alone(handlers, monkeypatch) -> None:
    """Picking a photo uploads it: the Generate click that follows starts the job on that Cloth, with
    no upload of its own; a photo picked again with its back is uploaded again, as a pair."""
    step = handlers["on_picked"].fn.__self__
    init_db(step.service.ctx.engine)
    folder = step.uploads[0] / "picked"
    folder.mkdir(parents=True, exist_ok=True)
    photo, back = folder / "front.png", folder / "back.png"
    for path, colour in ((photo, (200, 40, 40)), (back, (40, 80, 190))):
        draw_garment("top", colour=colour)[0].save(path)
    me = Caller("u" * 32)
    step.on_picked(str(photo), None, me)
    (cloth_id,) = step.staged.values()
    started = []
    monkeypatch.setattr(step.service, "generate_3d", lambda cloth, *rest, **kw: started.append(cloth) or {"id": "j"})
    monkeypatch.setattr(step.results, "asked", lambda *a: None)
    monkeypatch.setattr("demo.ui.photo.garment_done", lambda *a, **kw: {"id": "j", "log": "", "model_used": "m"})
    monkeypatch.setattr("demo.ui.photo.upload_photo", lambda *a, **kw: pytest.fail("uploaded again at the click"))
    monkeypatch.setattr(step.results, "garment", lambda job_id, *rest, **kw: (job_id,))
    generating = step.generate(str(photo), "auto", "low", "auto", [], [], None, me, None)
    with pytest.raises(StopIteration) as done:
        next(generating)
    assert done.value.value == ("j",) and started == [cloth_id]
    monkeypatch.undo()
    step.on_picked(str(photo), str(back), me)
    assert len(step.staged) == 2 and step.staged[(me.user_id, str(photo), str(back))] != cloth_id
    with pytest.raises(gr.Error, match="reload"):  # a pick sent without the page
        step.on_picked(str(photo), None, None)
