"""The full-size architectures against the published checkpoints' layout (names, shapes, counts),
built on the meta device, so nothing is downloaded and no memory is used."""

from __future__ import annotations

import pickle
import sys
import types
import typing
from dataclasses import dataclass, field

import pytest
import torch

from benchmarks.ml_models import full_parts
from core.ai.ml.instantmesh.config import (
    CKPT_PREFIX,
    VARIANTS,
    TrainingMetadata,
    allowed_globals,
    read_checkpoint,
    to_checkpoint,
)
from core.ai.ml.instantmesh.model import InstantMesh, load_instantmesh
from core.errors import PipelineError


def documented_layout(layers: int, c: int) -> dict[str, tuple[int, ...]]:
    """The InstantMesh generator's tensors as the facts sheet (B3) lists them."""
    out: dict[str, tuple[int, ...]] = {
        "encoder.model.embeddings.cls_token": (1, 1, 768),
        "encoder.model.embeddings.position_embeddings": (1, 197, 768),
        "encoder.model.embeddings.patch_embeddings.projection.weight": (768, 3, 16, 16),
        "encoder.model.embeddings.patch_embeddings.projection.bias": (768,),
        "encoder.model.layernorm.weight": (768,), "encoder.model.layernorm.bias": (768,),
        "encoder.camera_embedder.0.weight": (768, 16), "encoder.camera_embedder.0.bias": (768,),
        "encoder.camera_embedder.2.weight": (768, 768), "encoder.camera_embedder.2.bias": (768,),
        "transformer.pos_embed": (1, 3072, 1024),
        "transformer.norm.weight": (1024,), "transformer.norm.bias": (1024,),
        "transformer.deconv.weight": (1024, c, 2, 2), "transformer.deconv.bias": (c,),
    }
    for i in range(12):
        p = f"encoder.model.encoder.layer.{i}."
        for name in ("query", "key", "value"):
            out[p + f"attention.attention.{name}.weight"] = (768, 768)
            out[p + f"attention.attention.{name}.bias"] = (768,)
        out |= {p + "attention.output.dense.weight": (768, 768), p + "attention.output.dense.bias": (768,),
                p + "intermediate.dense.weight": (3072, 768), p + "intermediate.dense.bias": (3072,),
                p + "output.dense.weight": (768, 3072), p + "output.dense.bias": (768,),
                p + "adaLN_modulation.1.weight": (3072, 768), p + "adaLN_modulation.1.bias": (3072,)}
        for n in ("layernorm_before", "layernorm_after"):
            out[p + f"{n}.weight"] = out[p + f"{n}.bias"] = (768,)
    for i in range(layers):
        p = f"transformer.layers.{i}."
        for n in ("norm1", "norm2", "norm3"):
            out[p + f"{n}.weight"] = out[p + f"{n}.bias"] = (1024,)
        out |= {p + "cross_attn.q_proj_weight": (1024, 1024), p + "cross_attn.k_proj_weight": (1024, 768),
                p + "cross_attn.v_proj_weight": (1024, 768), p + "cross_attn.out_proj.weight": (1024, 1024),
                p + "self_attn.in_proj_weight": (3072, 1024), p + "self_attn.out_proj.weight": (1024, 1024),
                p + "mlp.0.weight": (4096, 1024), p + "mlp.0.bias": (4096,),
                p + "mlp.3.weight": (1024, 4096), p + "mlp.3.bias": (1024,)}
    for head, d_in, d_out in (("net_sdf", 3 * c, 1), ("net_rgb", 3 * c, 3), ("net_deformation", 3 * c, 3),
                              ("net_weight", 24 * c, 21)):
        dims = [d_in, 64, 64, 64, d_out]
        for k in range(4):
            out[f"synthesizer.decoder.{head}.{2 * k}.weight"] = (dims[k + 1], dims[k])
            out[f"synthesizer.decoder.{head}.{2 * k}.bias"] = (dims[k + 1],)
    return out


@pytest.mark.parametrize("variant,layers,c,tensors,params", [
    ("large", 16, 80, 519, 378_657_644), ("base", 12, 40, 455, 313_352_516)])
def test_instantmesh_matches_the_checkpoint_layout(variant, layers, c, tensors, params) -> None:
    with torch.device("meta"):
        model = InstantMesh(VARIANTS[variant])
    state = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert state == documented_layout(layers, c)
    assert len(state) == tensors
    assert sum(p.numel() for p in model.parameters()) == params


def test_zero123_parts_match_the_published_sizes() -> None:
    counts = {k: sum(p.numel() for p in m.parameters()) for k, m in full_parts().items()}
    assert counts == {"unet": 865_910_724, "vae": 83_653_863, "text_encoder": 340_387_840,
                      "vision_encoder": 632_076_800}
    unet = full_parts()["unet"]
    assert not hasattr(unet, "class_embedding") or unet.class_embedding is None
    self_attn = [n for n in unet.attn_processors if n.endswith("attn1.processor")]
    assert len(self_attn) == 16  # the layers that reference attention reaches


def test_checkpoint_round_trip_strips_the_lightning_prefix(tmp_path) -> None:
    state = {"a.weight": torch.ones(2), "encoder.source_camera": torch.zeros(1)}
    path = tmp_path / "x.ckpt"
    torch.save(to_checkpoint(state) | {"epoch": 3}, path)
    raw = torch.load(path, weights_only=True)
    assert set(raw["state_dict"]) == {CKPT_PREFIX + "a.weight", CKPT_PREFIX + "encoder.source_camera"}
    assert set(read_checkpoint(path)) == {"a.weight"}


class _Evil:
    def __reduce__(self):
        return (print, ("executed",))


@pytest.mark.parametrize("content,message", [
    (b"", "cannot be read"), (b"not a checkpoint at all", "cannot be read"),
    (pickle.dumps({"state_dict": _Evil()}), "cannot be read"),
], ids=["empty", "text", "pickle-running-code"])
def test_hostile_checkpoints_are_refused(tmp_path, content, message) -> None:
    path = tmp_path / "instant_mesh_large.ckpt"
    path.write_bytes(content)
    with pytest.raises(PipelineError, match=message):
        load_instantmesh(path, "large")


def test_a_code_carrying_torch_checkpoint_is_refused(tmp_path, capsys) -> None:
    path = tmp_path / "instant_mesh_large.ckpt"
    torch.save({"state_dict": {"x": _Evil()}}, path)
    with pytest.raises(PipelineError, match="cannot be read safely"):
        load_instantmesh(path, "large")
    assert "executed" not in capsys.readouterr().out


def test_a_checkpoint_of_the_wrong_variant_is_named(tmp_path) -> None:
    path = tmp_path / "instant_mesh_base.ckpt"
    torch.save(to_checkpoint({"encoder.model.layernorm.weight": torch.ones(768)}), path)
    with pytest.raises(PipelineError, match="does not match InstantMesh-base"):
        load_instantmesh(path, "base")
    torch.save({"weights": {}}, path)
    with pytest.raises(PipelineError, match="no 'state_dict'"):
        load_instantmesh(path, "base")


def _omegaconf_like(monkeypatch) -> type:
    """Classes pickled under OmegaConf's names and shapes (a config with `__getstate__`, a dataclass
    of metadata holding `typing.Any` and `str`), as a Lightning checkpoint's hyper-parameters are."""
    @dataclass
    class ContainerMetadata:
        ref_type: object = typing.Any
        key_type: object = str
        element_type: object = typing.Any
        flags: dict = field(default_factory=dict)

    class DictConfig:
        def __init__(self, content: dict) -> None:
            self.content, self.metadata = content, ContainerMetadata()

        def __getstate__(self) -> dict:
            return {"_content": self.content, "_metadata": self.metadata, "_parent": None}

    for cls, module in ((ContainerMetadata, "omegaconf.base"), (DictConfig, "omegaconf.dictconfig")):
        cls.__module__, cls.__qualname__ = module, cls.__name__
        mod = types.ModuleType(module)
        setattr(mod, cls.__name__, cls)
        monkeypatch.setitem(sys.modules, module, mod)
    monkeypatch.setitem(sys.modules, "omegaconf", types.ModuleType("omegaconf"))
    return DictConfig


def test_training_metadata_is_allowed_as_inert_data(tmp_path, monkeypatch) -> None:
    """A checkpoint whose hyper-parameters are an OmegaConf config loads without OmegaConf, and
    without unpickling freely: the named metadata types come back as plain data."""
    config = _omegaconf_like(monkeypatch)
    path = tmp_path / "instant_mesh_large.ckpt"
    torch.save(to_checkpoint({"a.weight": torch.ones(2)}) | {"hyper_parameters": config({"lr": 4e-4})}, path)
    monkeypatch.undo()  # OmegaConf is gone again: its classes are not what rebuilds the metadata
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
    assert set(read_checkpoint(path)) == {"a.weight"}
    with torch.serialization.safe_globals(allowed_globals()):
        meta = torch.load(path, weights_only=True)["hyper_parameters"]
    assert type(meta) is TrainingMetadata and meta["__state__"]["_content"] == {"lr": 4e-4}

