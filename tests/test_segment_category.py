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


def _composite(truth: np.ndarray, garment: np.ndarray, backdrop: np.ndarray, quality: int = 90) -> Image.Image:
    """A product photo: `garment` inside `truth` (edges feathered as a lens does) over `backdrop`,
    JPEG-encoded as uploads are."""
    import io

    from scipy import ndimage

    alpha = ndimage.gaussian_filter(truth.astype(float), 0.8)[..., None]
    photo = (alpha * garment + (1 - alpha) * backdrop).clip(0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _studio(h: int, w: int, top: float, bottom: float, vignette: float, rng) -> np.ndarray:
    """A light studio sweep: graded top to bottom, darker toward the corners, a little noise."""
    y, x = np.mgrid[:h, :w] / np.array([h, w])[:, None, None]
    level = top + (bottom - top) * y - vignette * ((x - 0.5) ** 2 + (y - 0.5) ** 2) * 2
    return level[..., None] * np.ones(3) + rng.normal(0, 0.8, (h, w, 1))


def test_white_tshirt_with_black_print_on_white_is_kept_whole() -> None:
    """The [I] issue's failure: on a white backdrop a white T-shirt with a black print kept only its
    print. The shirt is 2-4 levels off the backdrop, shaded to the backdrop's own white at one side."""
    _, truth = draw_garment("top")
    h, w = truth.shape
    shade = np.linspace(248, 253.5, w)[None, :, None] * np.ones((h, 1, 3))  # lit from the right
    shirt = shade.copy()
    shirt[300:450, 300:470] = (20, 20, 20)  # the black chest print
    cut = cut_out(_composite(truth, shirt, np.full((h, w, 3), 255.0)))
    assert iou(cut.mask, truth) > 0.95
    assert parse_mask(cut.mask).category == "top"


@pytest.mark.parametrize("category", ["top", "dress"])
def test_cream_garment_on_a_graded_light_backdrop(category) -> None:
    """A real studio photo's light-on-light case: a cream garment whose shaded side matches the graded,
    vignetted backdrop's level; only its hue, its weave and its outline tell it apart."""
    rng = np.random.default_rng(5)
    _, truth = draw_garment(category)
    h, w = truth.shape
    backdrop = _studio(h, w, 233, 246, 14, rng)
    side = np.linspace(244, 232, w)[None, :, None]  # shaded toward the right, down to the backdrop's level
    cream = side * np.array([1.0, 0.985, 0.955]) + rng.normal(0, 1.6, (h, w, 1))  # a knit's weave
    cut = cut_out(_composite(truth, cream, backdrop))
    assert iou(cut.mask, truth) > 0.95


def test_backdrop_between_sleeve_and_body_stays_open() -> None:
    """Filling what the outline encloses must not fill the backdrop seen between an arm hanging down
    and the body."""
    h, w = 1024, 768
    truth = np.zeros((h, w), bool)
    truth[200:850, 250:520] = True  # the body
    truth[200:830, 140:215] = True  # the left sleeve, hanging down beside it
    truth[200:260, 140:250] = True  # joined at the shoulder
    truth[780:830, 140:250] = True  # and at the cuff, resting on the hip: the gap is enclosed
    gap = np.zeros_like(truth)
    gap[260:780, 215:250] = True
    colour = np.full((h, w, 3), (70.0, 90.0, 140.0))
    cut = cut_out(_composite(truth, colour, np.full((h, w, 3), 246.0)))
    assert cut.mask[gap].mean() < 0.1
    assert iou(cut.mask, truth) > 0.97


def test_soft_cast_shadow_is_left_out() -> None:
    from scipy import ndimage

    rng = np.random.default_rng(2)
    _, truth = draw_garment("top")
    h, w = truth.shape
    backdrop = np.full((h, w, 3), 238.0) + rng.normal(0, 0.8, (h, w, 1))
    shadow = ndimage.gaussian_filter(np.roll(truth, (12, 10), (0, 1)).astype(float), 7)
    backdrop *= 1 - 0.12 * shadow[..., None]  # a soft shadow, down and to the right
    colour = np.full((h, w, 3), (150.0, 40.0, 50.0))
    cut = cut_out(_composite(truth, colour, backdrop))
    assert iou(cut.mask, truth) > 0.97


def test_product_shot_pasted_on_a_canvas_of_another_white() -> None:
    """A shop's photo (its backdrop a level off white) pasted onto a white canvas: the pasted
    rectangle's flat backdrop is backdrop too, however faint against the canvas."""
    photo, truth = draw_garment("bottom", background=(255, 253, 255))
    canvas = np.full((1100, 900, 3), 255, np.uint8)
    canvas[40:1064, 60:828] = np.asarray(photo)
    big = np.zeros((1100, 900), bool)
    big[40:1064, 60:828] = truth
    cut = cut_out(_composite(big, canvas.astype(float), canvas.astype(float)))
    assert iou(cut.mask, big) > 0.95
