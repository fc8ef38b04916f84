"""The rembg path of the cut-out, run for real with a tiny U²-Net stand-in that the test builds:
an ONNX graph with u2net's input and output shapes whose 'saliency' is the image's darkness."""

from __future__ import annotations

import pytest

from core.ai import segment
from core.samples import draw_garment

onnx = pytest.importorskip("onnx")  # installed by requirements-dev.txt
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
    monkeypatch.delenv("REMBG_DOWNLOAD", raising=False)
    segment.rembg_session.cache_clear()
    yield tmp_path
    segment.rembg_session.cache_clear()


def test_without_model_file_the_classical_cutout_runs(rembg_home) -> None:
    photo, _ = draw_garment("top")
    assert segment.rembg_session() is None
    assert segment.cut_out(photo).method == "border-model+grabcut"


def test_with_model_file_rembg_cuts_out(rembg_home) -> None:
    tiny_u2net(rembg_home / "u2net.onnx")
    photo, truth = draw_garment("top", colour=(40, 40, 160), stripes=False)
    cut = segment.cut_out(photo)
    assert cut.method == "rembg:u2net"
    iou = (cut.mask & truth).sum() / (cut.mask | truth).sum()
    assert iou > 0.9
