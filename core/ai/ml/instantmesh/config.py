"""InstantMesh variants and the official checkpoint format.

The published checkpoints carry no configuration; the variant's name picks it, as the original
`configs/instant-mesh-{large,base}.yaml` do. A checkpoint of another size can bring its own
`<checkpoint stem>.json` beside it (same fields).
"""

from __future__ import annotations

import json
import pickle
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from core.errors import PipelineError

CKPT_PREFIX = "lrm_generator."  # the Lightning module's attribute holding the generator


@dataclass(frozen=True)
class InstantMeshConfig:
    encoder_feat_dim: int = 768
    encoder_layers: int = 12
    encoder_heads: int = 12
    encoder_patch: int = 16
    encoder_pretrain_size: int = 224
    camera_dim: int = 16
    transformer_dim: int = 1024
    transformer_layers: int = 16
    transformer_heads: int = 16
    triplane_low_res: int = 32
    triplane_high_res: int = 64
    triplane_dim: int = 80
    mlp_hidden: int = 64
    grid_res: int = 128
    grid_scale: float = 2.1
    input_size: int = 320

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)


VARIANTS = {
    "large": InstantMeshConfig(),
    "base": InstantMeshConfig(transformer_layers=12, triplane_dim=40),
}


def config_for(checkpoint: Path, variant: str) -> InstantMeshConfig:
    """The built-in config of `variant`, or the one stored beside the checkpoint."""
    side = checkpoint.with_suffix(".json")
    if side.is_file():
        try:
            return InstantMeshConfig(**json.loads(side.read_text()))
        except (ValueError, TypeError) as exc:
            raise PipelineError(f"The InstantMesh config {side.name} is not valid: {exc}") from exc
    if variant not in VARIANTS:
        raise PipelineError(f"Unknown InstantMesh variant {variant!r}; choose one of: {', '.join(VARIANTS)}.")
    return VARIANTS[variant]


class TrainingMetadata(dict):
    """Stands in for the training metadata a Lightning checkpoint may carry beside its tensors
    (hyper-parameters as an OmegaConf config or Lightning's AttributeDict): rebuilt as inert
    data, never as the class it names, whose code is neither imported nor run."""

    def __setstate__(self, state: object) -> None:
        self["__state__"] = state


# The metadata types allowed in a checkpoint, by the name its pickle gives them; anything else
# that is not a tensor or a plain container is still refused.
METADATA_GLOBALS = (
    "omegaconf.dictconfig.DictConfig", "omegaconf.listconfig.ListConfig", "omegaconf.base.ContainerMetadata",
    "omegaconf.base.Metadata", "omegaconf.nodes.AnyNode", "omegaconf.nodes.StringNode",
    "omegaconf.nodes.IntegerNode", "omegaconf.nodes.FloatNode", "omegaconf.nodes.BooleanNode",
    "lightning_fabric.utilities.data.AttributeDict", "lightning.fabric.utilities.data.AttributeDict",
    "pytorch_lightning.utilities.parsing.AttributeDict", "typing.Any",
)
# Types the metadata refers to (OmegaConf keeps a container's key and element types).
PLAIN_TYPES = (str, int, float, bool, dict, list)


def allowed_globals() -> list:
    """What `torch.load(weights_only=True)` may rebuild besides tensors and plain containers."""
    return [(TrainingMetadata, name) for name in METADATA_GLOBALS] + list(PLAIN_TYPES)


def read_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    """The generator's tensors from an official Lightning checkpoint: keys under `state_dict`
    that start with `lrm_generator.`, prefix stripped. Loaded with `weights_only=True` and an
    allow-list (`METADATA_GLOBALS`, as inert stand-ins): a pickle that needs anything else is
    refused rather than executed."""
    try:
        with torch.serialization.safe_globals(allowed_globals()):
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
        raise PipelineError(f"The InstantMesh checkpoint {path.name} cannot be read safely: {exc}") from exc
    state = ckpt.get("state_dict") if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise PipelineError(f"The InstantMesh checkpoint {path.name} has no 'state_dict'.")
    return {k[len(CKPT_PREFIX):]: v for k, v in state.items()
            if k.startswith(CKPT_PREFIX) and "source_camera" not in k}


def to_checkpoint(state: dict[str, torch.Tensor]) -> dict:
    """The official layout for a generator state_dict (the inverse of `read_checkpoint`)."""
    return {"state_dict": {CKPT_PREFIX + k: v for k, v in state.items()}}
