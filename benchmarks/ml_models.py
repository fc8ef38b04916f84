"""Randomly initialised Zero123++ and InstantMesh: tiny ones saved in the official layouts, and
the full-size architectures.

The real weights cannot be downloaded on the development machines, so the tests and the CPU
smoke benchmark build tiny models instead and load them through the real loading code (their
output is noise; they prove the plumbing: layouts, formats, shapes, the job end to end). The
full-size configurations are those of the published models; the layout test checks them against
the published parameter counts, and the GPU benchmark times them with random weights.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import torch

from core.ai.ml.instantmesh.config import InstantMeshConfig, to_checkpoint
from core.ai.ml.instantmesh.model import InstantMesh
from core.ai.ml.weights import INSTANTMESH_DIR, WHITE_UNET, ZERO123_DIR, checkpoint_name

TINY_INSTANTMESH = InstantMeshConfig(encoder_feat_dim=32, encoder_layers=2, encoder_heads=2, transformer_dim=32,
                                     transformer_layers=2, transformer_heads=2, triplane_low_res=8,
                                     triplane_high_res=16, triplane_dim=4, mlp_hidden=16, grid_res=48)
D = 32  # width of the tiny CLIP models = the UNet's cross-attention width

# Zero123++ v1.2's parts at full size (their config.json files, as published).
FULL_UNET = dict(sample_size=96, in_channels=4, out_channels=4, block_out_channels=(320, 640, 1280, 1280),
                 layers_per_block=2, down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
                 up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3, cross_attention_dim=1024,
                 attention_head_dim=(5, 10, 20, 20), use_linear_projection=True, norm_num_groups=32,
                 flip_sin_to_cos=True, freq_shift=0)
FULL_VAE = dict(block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
                up_block_types=("UpDecoderBlock2D",) * 4, latent_channels=4, layers_per_block=2,
                scaling_factor=0.18215)
FULL_TEXT = dict(vocab_size=49408, hidden_size=1024, intermediate_size=4096, num_hidden_layers=23,
                 num_attention_heads=16, max_position_embeddings=77, hidden_act="gelu", projection_dim=512)
FULL_VISION = dict(hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=16,
                   image_size=224, patch_size=14, projection_dim=1024, hidden_act="gelu")


def full_parts(device: str = "meta") -> dict[str, torch.nn.Module]:
    """The full-size Zero123++ modules with random (or, on 'meta', no) weights."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPVisionConfig, CLIPVisionModelWithProjection

    with torch.device(device):
        return {"unet": UNet2DConditionModel(**FULL_UNET), "vae": AutoencoderKL(**FULL_VAE),
                "text_encoder": CLIPTextModel(CLIPTextConfig(**FULL_TEXT)),
                "vision_encoder": CLIPVisionModelWithProjection(CLIPVisionConfig(**FULL_VISION))}


def _tokenizer(folder: Path) -> None:
    from transformers import CLIPTokenizer

    chars = list(string.ascii_lowercase + string.digits + "!")
    vocab = {c: i for i, c in enumerate(chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"])}
    tmp = folder / "_src"
    tmp.mkdir(parents=True)
    (tmp / "vocab.json").write_text(json.dumps(vocab))
    (tmp / "merges.txt").write_text("#version: 0.2\n")
    CLIPTokenizer(str(tmp / "vocab.json"), str(tmp / "merges.txt"), pad_token="!",
                  model_max_length=77).save_pretrained(folder)
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()


def build_zero123(root: Path, seed: int = 0) -> None:
    """zero123plus-v1.2/ (config-only UNet) + InstantMesh/diffusion_pytorch_model.bin (fp16)."""
    from diffusers import AutoencoderKL, EulerAncestralDiscreteScheduler, UNet2DConditionModel
    from transformers import (
        CLIPImageProcessor,
        CLIPTextConfig,
        CLIPTextModel,
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
    )

    torch.manual_seed(seed)
    z = root / ZERO123_DIR
    unet = UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, block_out_channels=(16, 16, 32), layers_per_block=1,
        down_block_types=("DownBlock2D", "DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D", "UpBlock2D"), cross_attention_dim=D,
        attention_head_dim=4, norm_num_groups=8, use_linear_projection=True)
    unet.save_config(z / "unet")
    (root / INSTANTMESH_DIR).mkdir(parents=True, exist_ok=True)
    torch.save({k: v.half() for k, v in unet.state_dict().items()}, root / INSTANTMESH_DIR / WHITE_UNET)
    AutoencoderKL(block_out_channels=(8, 8, 8, 8), down_block_types=("DownEncoderBlock2D",) * 4,
                  up_block_types=("UpDecoderBlock2D",) * 4, latent_channels=4, norm_num_groups=4,
                  layers_per_block=1, scaling_factor=0.18215).save_pretrained(z / "vae")
    CLIPTextModel(CLIPTextConfig(vocab_size=76, hidden_size=D, intermediate_size=64, num_hidden_layers=2,
                                 num_attention_heads=2, max_position_embeddings=77, pad_token_id=72,
                                 bos_token_id=74, eos_token_id=75)).save_pretrained(z / "text_encoder")
    _tokenizer(z / "tokenizer")
    CLIPVisionModelWithProjection(CLIPVisionConfig(hidden_size=D, intermediate_size=64, num_hidden_layers=2,
                                                   num_attention_heads=2, image_size=224, patch_size=32,
                                                   projection_dim=D)).save_pretrained(z / "vision_encoder")
    clip_mean, clip_std = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]
    CLIPImageProcessor(size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224}, resample=3,
                       image_mean=clip_mean, image_std=clip_std).save_pretrained(z / "feature_extractor_clip")
    CLIPImageProcessor(size={"shortest_edge": 512}, crop_size={"height": 512, "width": 512}, resample=2,
                       image_mean=[0.5] * 3, image_std=[0.8] * 3).save_pretrained(z / "feature_extractor_vae")
    EulerAncestralDiscreteScheduler(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012,
                                    beta_schedule="linear", prediction_type="v_prediction",
                                    steps_offset=1).save_pretrained(z / "scheduler")
    ramp = torch.linspace(0.003, 1.198, 77).tolist()
    (z / "model_index.json").write_text(json.dumps({"_class_name": "Zero123PlusPipeline",
                                                    "ramping_coefficients": ramp}))


def random_instantmesh(cfg: InstantMeshConfig = TINY_INSTANTMESH, seed: int = 0,
                       device: str = "cpu") -> InstantMesh:
    """Random weights, with the SDF head's last bias set so that the SDF's median over the grid is
    zero for random views: a surface (noise blobs) then exists for any input."""
    from core.ai.ml.cameras import input_cameras
    from core.ai.ml.instantmesh.surface import query_grid

    torch.manual_seed(seed)
    with torch.device(device):
        model = InstantMesh(cfg).eval()
    with torch.no_grad():
        views = torch.rand(1, 6, 3, cfg.input_size, cfg.input_size, device=device)
        planes = model.forward_planes(views, torch.from_numpy(input_cameras()).to(device)[None])
        sdf, _ = query_grid(model, planes, cfg.grid_res)
        model.synthesizer.decoder.net_sdf[6].bias -= sdf.median()
    return model


def build_instantmesh(root: Path, variant: str = "tiny", seed: int = 0) -> Path:
    """InstantMesh/instant_mesh_<variant>.ckpt (+ its .json config) in the official format."""
    model = random_instantmesh(TINY_INSTANTMESH, seed)
    path = root / INSTANTMESH_DIR / checkpoint_name(variant)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(to_checkpoint(model.state_dict()), path)
    path.with_suffix(".json").write_text(TINY_INSTANTMESH.to_json())
    return path


def build_all(root: Path, variant: str = "large") -> Path:
    """Everything the ML path loads, under `root` (use it as MODEL_PATH). The tiny InstantMesh is
    stored under the given variant's file name, its config beside it."""
    build_zero123(root)
    build_instantmesh(root, variant)
    return root


def full_multiview(device: str, dtype: torch.dtype, scratch: Path):
    """Zero123++ at full size with random weights, assembled as the loader does (reference
    attention on the UNet). The tokenizer is the tiny one: the prompt is always empty."""
    from diffusers import EulerAncestralDiscreteScheduler
    from transformers import CLIPImageProcessor

    from core.ai.ml.multiview import MultiView, ReferenceAttention

    _tokenizer(scratch / "tokenizer")
    from transformers import CLIPTokenizer

    parts = {k: m.to(dtype).eval() for k, m in full_parts(device).items()}
    unet = parts["unet"]
    unet.set_attn_processor({n: ReferenceAttention(n, n.endswith("attn1.processor")) for n in unet.attn_processors})
    sched = EulerAncestralDiscreteScheduler(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012,
                                            beta_schedule="linear", prediction_type="v_prediction", steps_offset=1)
    return MultiView(
        tokenizer=CLIPTokenizer.from_pretrained(scratch / "tokenizer"),
        clip_processor=CLIPImageProcessor(size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224},
                                          resample=3),
        vae_processor=CLIPImageProcessor(size={"shortest_edge": 512}, crop_size={"height": 512, "width": 512},
                                         resample=2, image_mean=[0.5] * 3, image_std=[0.8] * 3),
        scheduler_config=dict(sched.config), ramp=torch.linspace(0.003, 1.198, 77)[:, None], **parts)
