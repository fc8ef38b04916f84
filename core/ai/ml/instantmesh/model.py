"""The InstantMesh generator: views + cameras → triplanes, and the queries made on them."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from core.ai.ml.instantmesh.config import InstantMeshConfig, config_for, read_checkpoint
from core.ai.ml.instantmesh.encoder import DinoEncoder
from core.ai.ml.instantmesh.synthesizer import TriplaneSynthesizer
from core.ai.ml.instantmesh.transformer import TriplaneTransformer
from core.errors import PipelineError


class InstantMesh(nn.Module):
    def __init__(self, cfg: InstantMeshConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = DinoEncoder(cfg)
        self.transformer = TriplaneTransformer(cfg)
        self.synthesizer = TriplaneSynthesizer(cfg)

    def forward_planes(self, images: torch.Tensor, cameras: torch.Tensor) -> torch.Tensor:
        """Views [B, V, 3, H, W] in [0, 1], cameras [B, V, 16] → triplanes [B, 3, C, 64, 64]."""
        return self.transformer(self.encoder(images, cameras))


def load_instantmesh(checkpoint: Path, variant: str, device: torch.device | str = "cpu") -> InstantMesh:
    """Build the variant's model and load the official checkpoint into it with strict=True."""
    cfg = config_for(checkpoint, variant)
    state = read_checkpoint(checkpoint)
    with torch.device("meta"):
        model = InstantMesh(cfg)
    try:
        model.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as exc:
        raise PipelineError(f"The checkpoint {checkpoint.name} does not match InstantMesh-{variant}: "
                            f"{str(exc).splitlines()[0]} …") from exc
    return model.float().to(device).eval()
