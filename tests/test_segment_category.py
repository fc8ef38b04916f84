"""Cut-out and category on drawn product photos whose true masks are known."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.ai.segment import cut_out, fill_background
from core.errors import InputError
from core.garment.parse import parse_mask
from core.samples import draw_garment


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


@pytest.mark.parametrize("category", ["top", "bottom", "dress"])
@pytest.mark.parametrize("background", [(255, 255, 255), (232, 232, 232), (236, 226, 205)])
def test_cutout_matches_truth(category, background) -> None:
    photo, truth = draw_garment(category, background=background)
    cut = cut_out(photo)
    assert cut.method == "classical"
    assert iou(cut.mask, truth) > 0.97
    assert parse_mask(cut.mask).category == category


@pytest.mark.parametrize("category", ["top", "dress"])
def test_cutout_on_a_textured_backdrop(category) -> None:
    photo, truth = draw_garment(category, background=(226, 218, 200))
    rng = np.random.default_rng(3)
    grain = rng.normal(0, 4, (photo.height, photo.width, 1))  # a linen-like backdrop
    arr = np.asarray(photo).astype(float)
    arr[~truth] += grain[~truth]
    cut = cut_out(Image.fromarray(arr.clip(0, 255).astype(np.uint8)))
    assert iou(cut.mask, truth) > 0.95


def test_alpha_channel_is_the_mask() -> None:
    photo, truth = draw_garment("top")
    rgba = photo.convert("RGBA")
    rgba.putalpha(Image.fromarray((truth * 255).astype(np.uint8)))
    cut = cut_out(rgba)
    assert cut.method == "alpha"
    assert iou(cut.mask, truth) > 0.999


def test_blank_photo_refused() -> None:
    with pytest.raises(InputError, match="No garment"):
        cut_out(Image.new("RGB", (300, 400), (250, 250, 250)))


def test_background_filled_with_nearest_garment_colour() -> None:
    rgb = np.zeros((10, 10, 3), np.uint8)
    rgb[:, :5] = (200, 10, 10)
    rgb[:, 5:] = (255, 255, 255)
    mask = np.zeros((10, 10), bool)
    mask[:, :5] = True
    filled = fill_background(rgb, mask)
    assert (filled == (200, 10, 10)).all()


def test_small_floaters_dropped() -> None:
    photo, truth = draw_garment("top")
    arr = np.asarray(photo).copy()
    arr[5:15, 5:15] = (0, 0, 0)  # a speck of dirt in the corner
    cut = cut_out(Image.fromarray(arr))
    assert not cut.mask[5:15, 5:15].any()
    assert iou(cut.mask, truth) > 0.97


def _landscape() -> Image.Image:
    """Sky over a meadow with clumps of grass: texture at every scale, as outdoor photos have."""
    rng = np.random.default_rng(0)
    img = np.zeros((600, 800, 3))
    img[:300] = np.linspace([90, 140, 230], [200, 220, 250], 300)[:, None, :]  # sky
    img[300:] = (60, 140, 50)  # meadow
    clumps = np.asarray(Image.fromarray(rng.normal(128, 40, (75, 100)).clip(0, 255).astype(np.uint8))
                        .resize((800, 600), Image.Resampling.BICUBIC), float) - 128
    img[300:] += clumps[300:, :, None]
    return Image.fromarray((img + rng.normal(0, 8, img.shape)).clip(0, 255).astype(np.uint8))


@pytest.mark.parametrize("name,image,text", [
    ("noise", Image.fromarray(np.random.default_rng(1).integers(0, 255, (400, 300, 3), dtype=np.uint8)),
     "not plain"),
    ("landscape", _landscape(), "No garment found"),
    ("tiny garment", draw_garment("top", size=(768, 1024))[0].resize((60, 80)).crop((-300, -400, 468, 624)),
     "too small"),
])
def test_no_garment_is_a_clear_error(name, image, text) -> None:
    with pytest.raises(InputError, match=text):
        cut_out(image)


def test_garment_touching_the_border_is_kept() -> None:
    photo, truth = draw_garment("bottom")
    cropped, truth = photo.crop((0, 150, 768, 1024)), truth[150:]  # the waistband runs off the top
    cut = cut_out(cropped)
    assert iou(cut.mask, truth) > 0.95
