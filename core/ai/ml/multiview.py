"""Zero123++ v1.2 multi-view diffusion, with InstantMesh's white-background UNet, through diffusers.

The published pipeline is a custom class fetched from the Hub at run time; it is written here
instead, from the same parts (diffusers' UNet, VAE and Euler-ancestral scheduler; transformers'
CLIP): two conditions steer the UNet. (1) The input's CLIP image embedding, added to the empty
prompt's text states with one weight per token ("ramping"). (2) Reference attention: at every
step the VAE latent of the input, noised to the step's level, goes through the UNet first, and
each self-attention layer keeps its tokens; in the real pass each self-attention also attends to
those kept tokens. Classifier-free guidance pairs this with the plain prompt and a grey image.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core.ai.ml.cameras import GRID_COLS, GRID_ROWS, TILE
from core.errors import PipelineError

GUIDANCE = 4.0
LATENT_SHIFT, LATENT_SCALE = 0.22, 0.75  # generated latents: (z·vae_scale − 0.22)·0.75
IMAGE_SCALE = 0.8 / 0.5  # decoded images are scaled back by 1.6 before the usual [-1, 1] → [0, 1]
FOREGROUND_RATIO = 0.85


class ReferenceAttention:
    """Attention processor: in 'write' mode a self-attention layer stores its input tokens, in
    'read' mode its keys and values also cover the stored tokens. Other layers pass through."""

    def __init__(self, name: str, enabled: bool) -> None:
        from diffusers.models.attention_processor import AttnProcessor2_0

        self.name, self.enabled, self.inner = name, enabled, AttnProcessor2_0()

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None,
                 mode: str | None = None, ref: dict | None = None):
        context = hidden_states if encoder_hidden_states is None else encoder_hidden_states
        if self.enabled and ref is not None:
            if mode == "write":
                ref[self.name] = context
            elif mode == "read":
                context = torch.cat([context, ref.pop(self.name)], dim=1)
        return self.inner(attn, hidden_states, context, attention_mask)


def square_on_white(cutout: Image.Image, ratio: float = FOREGROUND_RATIO) -> Image.Image:
    """The RGBA cut-out cropped to its alpha, centred in a square where it takes `ratio` of the
    side, composited onto white (InstantMesh's fine-tune expects a white background)."""
    if cutout.mode != "RGBA":
        raise PipelineError(f"The multi-view model needs an RGBA cut-out, got {cutout.mode}.")
    box = cutout.getchannel("A").point(lambda a: 255 if a > 0 else 0).getbbox()
    if box is None:
        raise PipelineError("The cut-out is empty.")
    obj = cutout.crop(box)
    side = int(max(obj.size) / ratio)
    square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    square.paste(obj, ((side - obj.width) // 2, (side - obj.height) // 2))
    out = Image.new("RGB", square.size, (255, 255, 255))
    out.paste(square, mask=square.getchannel("A"))
    return out


@dataclass
class MultiView:
    unet: torch.nn.Module
    vae: torch.nn.Module
    text_encoder: torch.nn.Module
    tokenizer: object
    vision_encoder: torch.nn.Module
    clip_processor: object
    vae_processor: object
    scheduler_config: dict
    ramp: torch.Tensor  # [77, 1]

    @property
    def device(self) -> torch.device:
        return self.unet.device

    @property
    def dtype(self) -> torch.dtype:
        return self.unet.dtype

    def _text_states(self) -> torch.Tensor:
        ids = self.tokenizer("", padding="max_length", max_length=self.tokenizer.model_max_length,
                             truncation=True, return_tensors="pt").input_ids
        return self.text_encoder(ids.to(self.device))[0]

    @torch.no_grad()
    def generate(self, image: Image.Image, steps: int, seed: int = 42, guidance: float = GUIDANCE) -> np.ndarray:
        """The 6 views as one [960, 640, 3] float32 image in [0, 1] (3 rows × 2 columns of 320 px)."""
        from diffusers import EulerAncestralDiscreteScheduler

        dev, dt = self.device, self.dtype
        torch.manual_seed(seed)  # the reference noise is drawn from the global generator, as upstream
        gen = torch.Generator(device="cpu").manual_seed(seed)
        sched = EulerAncestralDiscreteScheduler.from_config(self.scheduler_config, timestep_spacing="trailing")
        sched.set_timesteps(steps, device=dev)

        vae_in = self.vae_processor(images=image, return_tensors="pt").pixel_values.to(dev, dt)
        clip_in = self.clip_processor(images=image, return_tensors="pt").pixel_values.to(dev, dt)
        cond_lat = self.vae.encode(vae_in).latent_dist.sample(gen)
        neg_lat = self.vae.encode(torch.zeros_like(vae_in)).latent_dist.sample(gen)
        ref_lat = torch.cat([neg_lat, cond_lat])
        global_emb = self.vision_encoder(clip_in).image_embeds.unsqueeze(1)          # [1, 1, D]
        text = self._text_states().to(dt)                                             # [1, 77, D]
        states = torch.cat([text, text + global_emb * self.ramp.to(dev, dt)])         # [uncond, cond]

        h, w = GRID_ROWS * TILE // 8, GRID_COLS * TILE // 8
        latents = torch.randn((1, self.unet.config.in_channels, h, w), generator=gen).to(dev, dt)
        latents = latents * sched.init_noise_sigma
        for t in sched.timesteps:
            noisy_ref = sched.add_noise(ref_lat, torch.randn_like(ref_lat), t.reshape(-1))
            noisy_ref = sched.scale_model_input(noisy_ref, t)
            ref: dict = {}
            self.unet(noisy_ref, t, encoder_hidden_states=states, cross_attention_kwargs={"mode": "write", "ref": ref})
            x = sched.scale_model_input(torch.cat([latents] * 2), t)
            out = self.unet(x, t, encoder_hidden_states=states,
                            cross_attention_kwargs={"mode": "read", "ref": ref}).sample
            uncond, cond = out.chunk(2)
            latents = sched.step(uncond + guidance * (cond - uncond), t, latents, generator=gen).prev_sample
        z = (latents / LATENT_SCALE + LATENT_SHIFT) / self.vae.config.scaling_factor
        pixels = self.vae.decode(z).sample * IMAGE_SCALE
        return (pixels[0].float() / 2 + 0.5).clamp(0, 1).permute(1, 2, 0).cpu().numpy()


def placed(module: torch.nn.Module, device: torch.device | str, dtype: torch.dtype) -> torch.nn.Module:
    """The module on `device` with every floating tensor in `dtype`: cast explicitly where one is
    not (the UNet's state comes in the file's dtype), and only there (diffusers warns at each cast)."""
    tensors = [*module.parameters(), *module.buffers()]
    if any(t.is_floating_point() and t.dtype != dtype for t in tensors):
        module = module.to(dtype)
    return module.to(device).eval()


def load_multiview(folder: Path, white_unet: Path, device: torch.device | str, dtype: torch.dtype) -> MultiView:
    """Zero123++ v1.2 from its diffusers folder; the UNet is built from its config and takes
    InstantMesh's white-background weights (strict), so v1.2's own UNet weights are not needed."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPImageProcessor, CLIPTextModel, CLIPTokenizer, CLIPVisionModelWithProjection

    try:
        index = json.loads((folder / "model_index.json").read_text())
        ramp = torch.tensor(index["ramping_coefficients"], dtype=torch.float32)[:, None]
        with torch.device("meta"):
            unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(folder / "unet"))
        state = torch.load(white_unet, map_location="cpu", weights_only=True)
        unet.load_state_dict(state, strict=True, assign=True)
        unet.set_attn_processor({name: ReferenceAttention(name, name.endswith("attn1.processor"))
                                 for name in unet.attn_processors})
        parts = dict(  # `dtype`: what diffusers and transformers take now (`torch_dtype` is deprecated)
            vae=AutoencoderKL.from_pretrained(folder / "vae", dtype=dtype),
            text_encoder=CLIPTextModel.from_pretrained(folder / "text_encoder", dtype=dtype),
            vision_encoder=CLIPVisionModelWithProjection.from_pretrained(folder / "vision_encoder", dtype=dtype),
        )
        tokenizer = CLIPTokenizer.from_pretrained(folder / "tokenizer")
        clip_processor = CLIPImageProcessor.from_pretrained(folder / "feature_extractor_clip")
        vae_processor = CLIPImageProcessor.from_pretrained(folder / "feature_extractor_vae")
        scheduler_config = json.loads((folder / "scheduler" / "scheduler_config.json").read_text())
    except (OSError, KeyError, ValueError, RuntimeError) as exc:
        raise PipelineError(f"The Zero123++ weights in {folder.name} could not be loaded: "
                            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
    if ramp.shape[0] != tokenizer.model_max_length:
        raise PipelineError(f"Zero123++ ramping_coefficients has {ramp.shape[0]} entries, "
                            f"expected {tokenizer.model_max_length}.")
    modules = {k: placed(m, device, dtype) for k, m in {"unet": unet, **parts}.items()}
    return MultiView(tokenizer=tokenizer, clip_processor=clip_processor, vae_processor=vae_processor,
                     scheduler_config=scheduler_config, ramp=ramp, **modules)
