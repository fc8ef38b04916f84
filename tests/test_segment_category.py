"""Cut-out and category on drawn product photos whose true masks are known."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.ai.category import guess_category
from core.ai.segment import cut_out, fill_background
from core.errors import InputError
from core.samples import draw_garment


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


@pytest.mark.parametrize("category", ["top", "bottom", "dress"])
@pytest.mark.parametrize("background", [(255, 255, 255), (232, 232, 232), (236, 226, 205)])
def test_cutout_matches_truth(category, background) -> None:
    photo, truth = draw_garment(category, background=background)
    cut = cut_out(photo)
    assert cut.method == "border-model+grabcut"
    assert iou(cut.mask, truth) > 0.97
    assert guess_category(cut.mask) == category


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
