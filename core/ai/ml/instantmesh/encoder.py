"""Image encoder: DINO ViT-B/16 whose layers are modulated by each view's camera (adaLN).

Attribute names follow Hugging Face's ViT (`embeddings`, `encoder.layer.N.attention.attention.query`,
…) because the InstantMesh checkpoint stores the encoder under those names; the modulation adds
`adaLN_modulation` per layer and a `camera_embedder` MLP.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.ai.ml.instantmesh.config import InstantMeshConfig

DINO_MEAN = DINO_STD = 0.5  # facebook/dino-vitb16's stored preprocessor: [0, 1] → [-1, 1]


class _Holder(nn.Module):
    """A named level of the checkpoint's key hierarchy that only holds a Linear."""

    def __init__(self, d_in: int, d_out: int) -> None:
        super().__init__()
        self.dense = nn.Linear(d_in, d_out)


class _SelfAttention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, self.heads, d // self.heads).transpose(1, 2)

        out = F.scaled_dot_product_attention(split(self.query(x)), split(self.key(x)), split(self.value(x)))
        return out.transpose(1, 2).reshape(b, n, d)


class _Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.attention = _SelfAttention(dim, heads)
        self.output = _Holder(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output.dense(self.attention(x))


class ModulatedLayer(nn.Module):
    """A ViT layer whose two LayerNorm outputs are shifted and scaled by the camera embedding."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.attention = _Attention(dim, heads)
        self.intermediate = _Holder(dim, 4 * dim)
        self.output = _Holder(4 * dim, dim)
        self.layernorm_before = nn.LayerNorm(dim, eps=1e-12)
        self.layernorm_after = nn.LayerNorm(dim, eps=1e-12)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 4 * dim))

    def forward(self, h: torch.Tensor, cam: torch.Tensor) -> torch.Tensor:
        shift1, scale1, shift2, scale2 = self.adaLN_modulation(cam).unsqueeze(1).chunk(4, dim=-1)
        h = h + self.attention(self.layernorm_before(h) * (1 + scale1) + shift1)
        ff = F.gelu(self.intermediate.dense(self.layernorm_after(h) * (1 + scale2) + shift2))
        return h + self.output.dense(ff)


class _Stack(nn.Module):
    def __init__(self, dim: int, heads: int, layers: int) -> None:
        super().__init__()
        self.layer = nn.ModuleList(ModulatedLayer(dim, heads) for _ in range(layers))


class _PatchEmbed(nn.Module):
    def __init__(self, dim: int, patch: int) -> None:
        super().__init__()
        self.projection = nn.Conv2d(3, dim, patch, stride=patch)


class _Embeddings(nn.Module):
    def __init__(self, cfg: InstantMeshConfig) -> None:
        super().__init__()
        dim, grid = cfg.encoder_feat_dim, cfg.encoder_pretrain_size // cfg.encoder_patch
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.position_embeddings = nn.Parameter(torch.zeros(1, grid * grid + 1, dim))
        self.patch_embeddings = _PatchEmbed(dim, cfg.encoder_patch)
        self.grid = grid

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.patch_embeddings.projection(x)  # [N, D, h, w]
        h, w = tokens.shape[-2:]
        tokens = tokens.flatten(2).transpose(1, 2)
        pos = self.position_embeddings[:, 1:].reshape(1, self.grid, self.grid, -1).permute(0, 3, 1, 2)
        if (h, w) != (self.grid, self.grid):
            # DINO's resize: bicubic with the scale factor nudged by +0.1 (the size stays h × w).
            pos = F.interpolate(pos.float(), scale_factor=((h + 0.1) / self.grid, (w + 0.1) / self.grid),
                                mode="bicubic", align_corners=False).to(tokens.dtype)
        pos = pos.flatten(2).transpose(1, 2)
        cls = self.cls_token.expand(len(x), -1, -1) + self.position_embeddings[:, :1]
        return torch.cat([cls, tokens + pos], dim=1)


class ModulatedViT(nn.Module):
    def __init__(self, cfg: InstantMeshConfig) -> None:
        super().__init__()
        self.embeddings = _Embeddings(cfg)
        self.encoder = _Stack(cfg.encoder_feat_dim, cfg.encoder_heads, cfg.encoder_layers)
        self.layernorm = nn.LayerNorm(cfg.encoder_feat_dim, eps=1e-12)

    def forward(self, x: torch.Tensor, cam: torch.Tensor) -> torch.Tensor:
        h = self.embeddings(x)
        for layer in self.encoder.layer:
            h = layer(h, cam)
        return self.layernorm(h)


class DinoEncoder(nn.Module):
    """Views [B, V, 3, H, W] in [0, 1] and cameras [B, V, 16] → tokens [B, V·(1 + patches), D]."""

    def __init__(self, cfg: InstantMeshConfig) -> None:
        super().__init__()
        self.model = ModulatedViT(cfg)
        d = cfg.encoder_feat_dim
        self.camera_embedder = nn.Sequential(nn.Linear(cfg.camera_dim, d), nn.SiLU(), nn.Linear(d, d))

    def forward(self, images: torch.Tensor, cameras: torch.Tensor) -> torch.Tensor:
        b, v = images.shape[:2]
        x = (images.flatten(0, 1) - DINO_MEAN) / DINO_STD
        tokens = self.model(x, self.camera_embedder(cameras.flatten(0, 1)))
        return tokens.reshape(b, v * tokens.shape[1], tokens.shape[2])
