"""Garment photos drawn from scratch (Pillow): examples the project may ship, and inputs for tests
and benchmarks that need no outside data. Each drawing also returns its exact garment mask."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

W, H = 768, 1024

# Outlines in a 768×1024 frame, clockwise from the left of the neckline.
_SHAPES = {
    "top": [(300, 130), (200, 160), (90, 330), (180, 390), (215, 330), (220, 880), (548, 880),
            (553, 330), (588, 390), (678, 330), (568, 160), (468, 130), (420, 175), (348, 175)],
    "bottom": [(230, 120), (538, 120), (575, 900), (420, 900), (384, 380), (348, 900), (193, 900)],
    "dress": [(320, 110), (240, 140), (200, 260), (250, 280), (260, 430), (150, 930), (618, 930),
              (508, 430), (518, 280), (568, 260), (528, 140), (448, 110), (410, 150), (358, 150)],
}
_COLOURS = {"top": (196, 52, 60), "bottom": (40, 62, 110), "dress": (46, 120, 84)}


def draw_garment(category: str, background: tuple[int, int, int] = (255, 255, 255),
                 colour: tuple[int, int, int] | None = None, stripes: bool = True,
                 size: tuple[int, int] = (W, H)) -> tuple[Image.Image, np.ndarray]:
    """A flat-lay product photo of a garment of `category` and its ground-truth mask."""
    outline = _SHAPES["top" if category == "outer" else category]
    colour = colour or _COLOURS["top" if category == "outer" else category]
    mask_img = Image.new("L", (W, H), 0)
    ImageDraw.Draw(mask_img).polygon(outline, fill=255)
    cloth = Image.new("RGB", (W, H), colour)
    d = ImageDraw.Draw(cloth)
    if stripes:  # texture to see on the 3D garment: lighter horizontal bands and a chest print
        light = tuple(min(255, c + 60) for c in colour)
        for y in range(0, H, 64):
            d.rectangle([0, y, W, y + 18], fill=light)
        d.ellipse([330, 300, 438, 408], fill=(245, 215, 70))
    shade = np.asarray(cloth, np.float32) * (0.92 + 0.08 * np.linspace(1, 0, W))[None, :, None]
    cloth = Image.fromarray(shade.clip(0, 255).astype(np.uint8))
    photo = Image.new("RGB", (W, H), background)
    photo.paste(cloth, (0, 0), mask_img.filter(ImageFilter.GaussianBlur(0.8)))
    if size != (W, H):
        photo = photo.resize(size, Image.Resampling.LANCZOS)
        mask_img = mask_img.resize(size, Image.Resampling.NEAREST)
    return photo, np.asarray(mask_img) > 127
