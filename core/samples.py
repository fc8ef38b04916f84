"""Garment photos drawn from scratch (Pillow): examples the project may ship, and inputs for tests
and benchmarks that need no outside data. Each drawing also returns its exact garment mask."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

W, H = 768, 1024

# Outlines in a 768×1024 frame, clockwise from the left of the neckline.
_SHAPES = {
    "top": [(320, 200), (190, 235), (70, 380), (150, 440), (200, 380), (195, 800), (573, 800), (568, 380),
            (618, 440), (698, 380), (578, 235), (448, 200), (415, 240), (353, 240)],
    "outer": [(320, 190), (185, 225), (40, 640), (105, 670), (205, 390), (200, 830), (568, 830), (563, 390),
              (663, 670), (728, 640), (583, 225), (448, 190), (416, 235), (352, 235)],
    "bottom": [(230, 120), (538, 120), (575, 900), (420, 900), (384, 380), (348, 900), (193, 900)],
    "dress": [(330, 120), (250, 140), (190, 250), (240, 285), (235, 430), (130, 930), (638, 930),
              (533, 430), (528, 285), (578, 250), (518, 140), (438, 120), (410, 165), (358, 165)],
}
_COLOURS = {"top": (196, 52, 60), "outer": (72, 76, 86), "bottom": (40, 62, 110), "dress": (46, 120, 84)}


def draw_garment(category: str, background: tuple[int, int, int] = (255, 255, 255),
                 colour: tuple[int, int, int] | None = None, stripes: bool = True,
                 size: tuple[int, int] = (W, H)) -> tuple[Image.Image, np.ndarray]:
    """A flat-lay product photo of a garment of `category` and its ground-truth mask."""
    outline = _SHAPES[category]
    colour = colour or _COLOURS[category]
    mask_img = Image.new("L", (W, H), 0)
    ImageDraw.Draw(mask_img).polygon(outline, fill=255)
    cloth = Image.new("RGB", (W, H), colour)
    d = ImageDraw.Draw(cloth)
    if stripes:  # texture to see on the 3D garment: lighter horizontal bands and a chest print
        light = tuple(min(255, c + 60) for c in colour)
        for y in range(0, H, 64):
            d.rectangle([0, y, W, y + 18], fill=light)
        d.ellipse([330, 300, 438, 408], fill=(245, 215, 70))
    if category == "outer":  # a jacket: open down the front along a zip
        d.line([(384, 235), (384, 830)], fill=(205, 205, 210), width=7)
    shade = np.asarray(cloth, np.float32) * (0.92 + 0.08 * np.linspace(1, 0, W))[None, :, None]
    cloth = Image.fromarray(shade.clip(0, 255).astype(np.uint8))
    photo = Image.new("RGB", (W, H), background)
    photo.paste(cloth, (0, 0), mask_img.filter(ImageFilter.GaussianBlur(0.8)))
    if size != (W, H):
        photo = photo.resize(size, Image.Resampling.LANCZOS)
        mask_img = mask_img.resize(size, Image.Resampling.NEAREST)
    return photo, np.asarray(mask_img) > 127
