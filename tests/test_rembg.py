"""The choice of cut-out (the SEGMENTER setting) on both branches, and the rembg path run for real with
a tiny U²-Net stand-in that the test builds: an ONNX graph with u2net's input and output shapes whose
'saliency' is the image's darkness. The stand-in proves the wiring only, not a learned model's quality."""

from __future__ import annotations

import sys

import pytest

from core.ai import segment
from core.config import Settings
from core.samples import draw_garment

onnx = pytest.importorskip("onnx")  # installed with rembg (requirements.txt) and onnx (requirements-dev.txt)
pytest.importorskip("rembg")
from onnx import TensorProto, helper  # noqa: E402


def tiny_u2net(path) -> None:
    x = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, 320, 320])
    y = helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 1, 320, 320])
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    nodes = [helper.make_node("ReduceMean", ["input.1", "axes"], ["mean"], keepdims=1),
             helper.make_node("Neg", ["mean"], ["out"])]  # darker than the white backdrop → garment
    graph = helper.make_graph(nodes, "tiny_u2net", [x], [y], initializer=[axes])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


@pytest.fixture
def rembg_home(tmp_path, monkeypatch):
    monkeypatch.setenv("U2NET_HOME", str(tmp_path))
    segment.choose_segmenter.cache_clear()
    yield tmp_path
    segment.choose_segmenter.cache_clear()


def test_without_model_file_auto_falls_back_to_classical_and_says_why(rembg_home) -> None:
    chosen = segment.segmenter_for(Settings(segmenter="auto"))
    assert chosen.session is None and chosen.note == "classical (rembg model u2net not on disk)"
    photo, _ = draw_garment("top")
    assert segment.cut_out(photo, chosen).method == "classical (rembg model u2net not on disk)"


def test_with_model_file_auto_cuts_out_with_rembg(rembg_home) -> None:
    tiny_u2net(rembg_home / "u2net.onnx")
    chosen = segment.segmenter_for(Settings(segmenter="auto"))
    photo, truth = draw_garment("top", colour=(40, 40, 160), stripes=False)
    cut = segment.cut_out(photo, chosen)
    assert cut.method == "rembg:u2net"
    iou = (cut.mask & truth).sum() / (cut.mask | truth).sum()
    assert iou > 0.9


def test_classical_setting_ignores_the_model_on_disk(rembg_home) -> None:
    tiny_u2net(rembg_home / "u2net.onnx")
    chosen = segment.segmenter_for(Settings(segmenter="classical"))
    assert chosen is segment.CLASSICAL
    assert segment.cut_out(draw_garment("top")[0], chosen).method == "classical"


@pytest.mark.parametrize("settings", [Settings(segmenter="auto", rembg_download=True),
                                      Settings(segmenter="auto", space_id="someone/fitroom"),
                                      Settings(segmenter="rembg")], ids=["REMBG_DOWNLOAD", "on a Space", "rembg"])
def test_where_weights_can_be_had_rembg_fetches_its_model(rembg_home, monkeypatch, settings) -> None:
    """No file on disk, but a download is allowed: rembg is asked for the model (here the 'download'
    fails, as it would offline, and the classical cut-out runs with that reason in the log)."""
    asked = []

    def new_session(name, *args, **kwargs):
        asked.append(name)
        raise ConnectionError("offline")

    import rembg
    monkeypatch.setattr(rembg, "new_session", new_session)
    chosen = segment.segmenter_for(settings)
    assert asked == ["u2net"]
    assert chosen.session is None
    assert chosen.note == "classical (rembg model u2net could not be loaded: ConnectionError)"


def test_auto_without_download_does_not_ask_rembg(rembg_home, monkeypatch) -> None:
    import rembg
    monkeypatch.setattr(rembg, "new_session", lambda *a, **k: pytest.fail("no download allowed here"))
    assert segment.segmenter_for(Settings(segmenter="auto")).session is None


def test_rembg_not_installed(rembg_home, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "rembg", None)  # import rembg raises ImportError
    chosen = segment.segmenter_for(Settings(segmenter="auto", rembg_download=True))
    assert chosen.session is None and chosen.note == "classical (rembg is not installed)"


def test_unknown_model_named(rembg_home) -> None:
    chosen = segment.segmenter_for(Settings(segmenter="auto", rembg_model="no-such-model"))
    assert chosen.note == "classical (rembg has no model 'no-such-model')"


def test_the_job_log_names_the_fallback(rembg_home) -> None:
    from core.ai.reconstructors import REGISTRY
    from core.pipeline import photo_to_garment

    chosen = segment.segmenter_for(Settings(segmenter="auto"))
    files = photo_to_garment(draw_garment("top")[0], "top", "low", REGISTRY["silhouette"], segmenter=chosen)
    assert files.stats["segmentation"] == "classical (rembg model u2net not on disk)"
    assert "cut-out: classical (rembg model u2net not on disk)" in files.log


def test_preload_follows_the_setting(rembg_home, monkeypatch) -> None:
    """What the Docker build bakes in (PRELOAD_WEIGHTS=1): the model SEGMENTER and REMBG_MODEL choose."""
    assert segment.preload(Settings(segmenter="classical")) is segment.CLASSICAL
    tiny_u2net(rembg_home / "u2net.onnx")
    assert segment.preload(Settings(segmenter="auto")).method == "rembg:u2net"
    with pytest.raises(RuntimeError, match="rembg has no model 'nope'"):
        segment.preload(Settings(segmenter="rembg", rembg_model="nope"))
