"""Triplane heads: features sampled at 3D points feed four small MLPs (SDF, colour, vertex
deformation, FlexiCubes weights)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.ai.ml.instantmesh.config import InstantMeshConfig

BOX_WARP = 2.0  # world box side the planes cover ([-1, 1] after scaling by 2 / BOX_WARP)


def _mlp(d_in: int, hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, d_out))


class _Heads(nn.Module):
    def __init__(self, feat: int, hidden: int) -> None:
        super().__init__()
        self.net_sdf = _mlp(feat, hidden, 1)
        self.net_rgb = _mlp(feat, hidden, 3)
        self.net_deformation = _mlp(feat, hidden, 3)
        self.net_weight = _mlp(8 * feat, hidden, 21)


def sample_planes(planes: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Bilinear features of points [B, N, 3] on planes [B, 3, C, H, W] → [B, N, 3C].
    Plane 0 spans (x, y), plane 1 (x, z), plane 2 (z, y); beyond the box reads zeros."""
    p = points * (2.0 / BOX_WARP)
    uv = torch.stack([p[..., [0, 1]], p[..., [0, 2]], p[..., [2, 1]]], dim=1)  # [B, 3, N, 2]
    b, _, c, h, w = planes.shape
    feats = F.grid_sample(planes.reshape(b * 3, c, h, w), uv.reshape(b * 3, 1, -1, 2).to(planes.dtype),
                          mode="bilinear", padding_mode="zeros", align_corners=False)  # [3B, C, 1, N]
    return feats.view(b, 3, c, -1).permute(0, 3, 1, 2).reshape(b, -1, 3 * c)


class TriplaneSynthesizer(nn.Module):
    def __init__(self, cfg: InstantMeshConfig) -> None:
        super().__init__()
        self.decoder = _Heads(3 * cfg.triplane_dim, cfg.mlp_hidden)

    def sdf_deformation(self, planes: torch.Tensor, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = sample_planes(planes, points)
        return self.decoder.net_sdf(f)[..., 0], self.decoder.net_deformation(f)

    def weights(self, planes: torch.Tensor, corners: torch.Tensor) -> torch.Tensor:
        """FlexiCubes weights per cube from its 8 corners' features; corners [B, M, 8, 3] → [B, M, 21]."""
        b, m = corners.shape[:2]
        f = sample_planes(planes, corners.reshape(b, m * 8, 3)).reshape(b, m, -1)
        return self.decoder.net_weight(f) * 0.1

    def rgb(self, planes: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder.net_rgb(sample_planes(planes, points))) * 1.002 - 0.001
