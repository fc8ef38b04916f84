"""Triplane transformer: learned triplane tokens cross-attend to the image tokens, then a
transposed convolution doubles each plane's resolution."""

from __future__ import annotations

import torch
from torch import nn

from core.ai.ml.instantmesh.config import InstantMeshConfig


class TriplaneBlock(nn.Module):
    """Pre-norm block: cross-attention to the images, self-attention, MLP. torch's
    MultiheadAttention without biases gives exactly the checkpoint's parameter names."""

    def __init__(self, dim: int, heads: int, cond_dim: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.cross_attn = nn.MultiheadAttention(dim, heads, kdim=cond_dim, vdim=cond_dim, bias=False,
                                                batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.self_attn = nn.MultiheadAttention(dim, heads, bias=False, batch_first=True)
        self.norm3 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Dropout(0.0), nn.Linear(4 * dim, dim),
                                 nn.Dropout(0.0))

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x = x + self.cross_attn(self.norm1(x), cond, cond, need_weights=False)[0]
        h = self.norm2(x)
        x = x + self.self_attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.norm3(x))


class TriplaneTransformer(nn.Module):
    """Image tokens [B, N, 768] → triplanes [B, 3, C, 2·low_res, 2·low_res]."""

    def __init__(self, cfg: InstantMeshConfig) -> None:
        super().__init__()
        self.low_res, d = cfg.triplane_low_res, cfg.transformer_dim
        self.pos_embed = nn.Parameter(torch.zeros(1, 3 * self.low_res ** 2, d))
        self.layers = nn.ModuleList(TriplaneBlock(d, cfg.transformer_heads, cfg.encoder_feat_dim)
                                    for _ in range(cfg.transformer_layers))
        self.norm = nn.LayerNorm(d, eps=1e-6)
        self.deconv = nn.ConvTranspose2d(d, cfg.triplane_dim, kernel_size=2, stride=2, padding=0)

    def forward(self, cond: torch.Tensor) -> torch.Tensor:
        b, r = len(cond), self.low_res
        x = self.pos_embed.expand(b, -1, -1)
        for layer in self.layers:
            x = layer(x, cond)
        x = self.norm(x)
        # token = plane·r² + row·r + col
        x = x.view(b, 3, r, r, -1).permute(0, 1, 4, 2, 3).reshape(3 * b, -1, r, r)
        planes = self.deconv(x)
        return planes.view(b, 3, *planes.shape[1:])
