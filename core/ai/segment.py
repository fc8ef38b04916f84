"""Garment cut-out: a real alpha channel as is; else rembg (U²-Net and its kin) where the settings
choose it and its model can be had; else the classical cut-out, which needs no weights: a backdrop
model, colour distance and texture against the backdrop's own noise, the outline filled."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage

from core.errors import InputError

if TYPE_CHECKING:
    from core.config import Settings

log = logging.getLogger("fitroom.segment")

WORK_SIDE = 384  # segmentation runs at this size, the mask is scaled back up
MAX_BACKDROP_SPREAD = 15.0  # Lab units: product backdrops measure 0-2, textured ones up to ~10
NO_GARMENT = "No garment found: please use a photo of one garment on a plain background"


@dataclass(frozen=True)
class Cutout:
    rgb: np.ndarray  # HxWx3 uint8, the photo
    mask: np.ndarray  # HxW bool
    method: str

    def preview(self, max_side: int = 512) -> Image.Image:
        """The cut-out as the user sees it: the garment on a transparent background, small."""
        rgba = np.dstack([self.rgb, self.mask.astype(np.uint8) * 255])
        img = Image.fromarray(rgba, "RGBA")
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        return img


@dataclass(frozen=True)
class Segmenter:
    """The cut-out that runs on photos without an alpha channel: rembg's session, or None for the
    classical one. `note` names it and, for a fallback, why (it goes to the job's log)."""

    session: object | None
    note: str

    @property
    def method(self) -> str:
        return f"rembg:{self.session.model_name}" if self.session is not None else self.note


CLASSICAL = Segmenter(None, "classical")


def segmenter_for(settings: Settings) -> Segmenter:
    """The cut-out the settings ask for. `auto` downloads rembg's model only where REMBG_DOWNLOAD
    allows it or on a Hugging Face Space (SPACE_ID set), where weights can be had."""
    return choose_segmenter(settings.segmenter, settings.rembg_model,
                            settings.rembg_download or bool(settings.space_id))


@lru_cache(maxsize=4)
def choose_segmenter(kind: str = "auto", model: str = "u2net", download: bool = False) -> Segmenter:
    """`classical`: the classical cut-out. `auto`: rembg's `model` when rembg is installed and the
    model file is on disk (rembg looks in U2NET_HOME or REMBG_HOME) or `download` lets rembg fetch
    it; otherwise the classical one, with a note saying why. `rembg`: rembg, fetching the model if
    need be; the classical one, with the reason, only where rembg cannot run at all."""
    if kind == "classical":
        return CLASSICAL
    try:
        import rembg
        from rembg.sessions import sessions_class
    except ImportError:
        return _fallback(kind, "rembg is not installed")
    session_class = next((c for c in sessions_class if c.name() == model), None)
    if session_class is None:
        return _fallback(kind, f"rembg has no model {model!r}")
    if session_class.resolve_existing(f"{model}.onnx") is None and not download and kind != "rembg":
        return _fallback(kind, f"rembg model {model} not on disk")
    try:
        return Segmenter(rembg.new_session(model), f"rembg:{model}")
    except Exception as exc:  # a model that cannot load must not stop the service
        log.exception("rembg model %r could not be loaded; using the classical cut-out", model)
        return _fallback(kind, f"rembg model {model} could not be loaded: {type(exc).__name__}")


def preload(settings: Settings | None = None) -> Segmenter:
    """Fetch and load the cut-out's model that the settings choose, now (a Docker build bakes it
    into the image); nothing to fetch for the classical cut-out."""
    from core.config import get_settings

    settings = settings or get_settings()
    if settings.segmenter == "classical":
        return CLASSICAL
    chosen = choose_segmenter(settings.segmenter, settings.rembg_model, True)
    if chosen.session is None:
        raise RuntimeError(f"the cut-out's model could not be preloaded: {chosen.note}")
    log.info("cut-out model preloaded: %s", chosen.method)
    return chosen


def _fallback(kind: str, why: str) -> Segmenter:
    if kind == "rembg":
        log.warning("SEGMENTER=rembg, but %s: using the classical cut-out", why)
    return Segmenter(None, f"classical ({why})")


def cut_out(image: Image.Image, segmenter: Segmenter = CLASSICAL) -> Cutout:
    """The garment's mask: a real alpha channel as is; else the segmenter's (rembg, or the classical
    cut-out). Refuses a photo whose garment cannot be told from its background."""
    if image.mode == "RGBA":
        rgba = np.asarray(image)
        mask = _keep_main_pieces(rgba[..., 3] > 127)
        method = "alpha"
        rgb = rgba[..., :3]
    elif segmenter.session is not None:
        rgb = np.asarray(image.convert("RGB"))
        mask = _keep_main_pieces(_rembg_mask(rgb, segmenter.session))
        method = segmenter.method
    else:
        rgb = np.asarray(image.convert("RGB"))
        mask, spread = _classical_mask(rgb)  # its main pieces kept at the working size
        method = segmenter.method
        if spread > MAX_BACKDROP_SPREAD:
            raise InputError(NO_GARMENT + " (the background is not plain)")
    share = mask.mean()
    if share < 0.005:
        raise InputError(NO_GARMENT)
    if share < 0.03:
        raise InputError(f"The garment is too small in the photo ({share:.1%} of it): please crop closer to it.")
    sides = np.array([mask[0].mean(), mask[-1].mean(), mask[:, 0].mean(), mask[:, -1].mean()])
    if (sides > 0.2).sum() >= 3 or share > 0.95:  # a garment may touch one or two edges, not fill the frame
        raise InputError(NO_GARMENT + " (the picture is filled edge to edge)")
    return Cutout(rgb=np.ascontiguousarray(rgb), mask=mask, method=method)


def _rembg_mask(rgb: np.ndarray, session) -> np.ndarray:
    from rembg import remove

    alpha = remove(Image.fromarray(rgb), session=session, only_mask=True, post_process_mask=True)
    return ndimage.binary_fill_holes(np.asarray(alpha) > 127)


def _classical_mask(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """The garment's mask and the backdrop's spread (how far from plain the border is).

    Works at WORK_SIDE: a backdrop model fitted to the border, a first garment estimate, then the
    backdrop refitted to everything outside it (a studio backdrop is graded and vignetted; only a
    fit over the whole visible backdrop tells a white garment's shading from the backdrop's own), and
    the garment again, from its colour distance to that backdrop and its texture against the
    backdrop's, each measured against the backdrop's own noise. What the outline encloses is filled,
    except holes that are backdrop seen through the garment (between a sleeve and the body). The
    outline's pixels get a fractional coverage, so that the mask scaled up to the photo keeps a
    sub-pixel edge."""
    h, w = rgb.shape[:2]
    scale = min(1.0, WORK_SIDE / max(h, w))
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    lab = cv2.cvtColor(small.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)
    backdrop, spread, border = _backdrop(lab)
    if spread > MAX_BACKDROP_SPREAD:
        return np.zeros((h, w), bool), spread
    texture = _local_std(lab[..., 0])
    fg = _garment(lab, backdrop, texture, border)
    fg &= ~_pasted_canvas(lab, fg, texture)
    if not fg.any():
        return np.zeros((h, w), bool), spread
    for _ in range(2):  # the backdrop seen everywhere outside the garment, then the garment again
        outside = ~cv2.dilate(fg.astype(np.uint8), _DISK3).astype(bool)
        backdrop = _fit_backdrop(lab, outside)
        fg = _garment(lab, backdrop, texture, outside)
        fg &= ~_pasted_canvas(lab, fg, texture)
    grain = float(np.percentile(texture[outside], 98)) if outside.any() else 0.0
    fg &= ~_cast_shadow(lab, fg, backdrop, texture, grain)
    soft = _coverage(lab, fg, backdrop)
    soft[(soft > 0.5) & ~_keep_main_pieces(soft > 0.5)] = 0  # specks and strays: not the garment
    mask = cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR) > 0.5 if scale < 1 else soft > 0.5
    return mask, spread


_DISK3 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
_DISK1 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))


def _close(mask: np.ndarray, disk: np.ndarray) -> np.ndarray:
    """A morphological closing that treats the image's outside as empty (a garment running off the
    frame keeps its straight edge there)."""
    r = disk.shape[0] // 2
    pad = np.pad(mask.astype(np.uint8), r)
    return cv2.morphologyEx(pad, cv2.MORPH_CLOSE, disk)[r:-r, r:-r].astype(bool)


def _local_std(channel: np.ndarray) -> np.ndarray:
    """Texture: the 3×3 standard deviation (fabric has a weave, a print, folds; a backdrop is flat)."""
    mean = cv2.blur(channel, (3, 3))
    return np.sqrt(np.maximum(cv2.blur(channel * channel, (3, 3)) - mean * mean, 0))


def _garment(lab: np.ndarray, backdrop: np.ndarray, texture: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """Pixels unlike the backdrop: far from its colour, or textured where it is flat, in regions
    that hold at least one pixel clearly unlike it (hysteresis); what they enclose is filled.
    `sample`: pixels of the backdrop, to measure its noise and grain on."""
    diff = lab - backdrop
    dist = _norm(diff)
    if sample.sum() < 50:
        sample = np.ones_like(sample)
    # the backdrop's own noise; robust to garment pixels the previous estimate missed (the tail)
    p75, p98 = np.percentile(dist[sample], [75, 98])
    noise = float(min(p98, 3.0 * p75))
    t75, t98 = np.percentile(texture[sample], [75, 98])
    grain = float(min(t98, 3.0 * t75 + 0.05))
    weak = (dist > max(1.5 * noise, 0.4)) | (texture > 1.5 * grain + 0.25)
    strong = dist > max(3.0 * noise, 2.0)
    n, labels = cv2.connectedComponents(weak.astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(labels[strong])] = True
    keep[0] = False
    fg = keep[labels]
    fg = _close(fg, _DISK1)
    darker = -diff[..., 0]
    shaded = (darker > 1.0) & (darker < 25.0) & (_norm(diff[..., 1:]) < 1.5 + 0.12 * darker)
    # the backdrop, lit or shaded: its colour, and no more grain than it has (JPEG's own included)
    plain = ((dist < max(1.0 * noise, 0.3)) | shaded) & (texture <= max(grain + 0.1, 0.25))
    return _fill_enclosed(fg, plain)


def _pasted_canvas(lab: np.ndarray, fg: np.ndarray, texture: np.ndarray) -> np.ndarray:
    """A product shot pasted onto a canvas of another white: its own flat backdrop, a level or two off
    the canvas, ends in a straight vertical or horizontal line. Found by that line (a garment's
    outline is not ruler-straight over half its height) and a flat, even colour behind it, it is
    backdrop too."""
    h, w = fg.shape
    rows, cols = np.nonzero(fg.any(axis=1))[0], np.nonzero(fg.any(axis=0))[0]
    if len(rows) < 20 or len(cols) < 20:
        return np.zeros_like(fg)
    # the first garment pixel from each side, along each row or column that has one
    sides = [(np.argmax(fg[rows], axis=1), rows, True, 1),
             (w - 1 - np.argmax(fg[rows, ::-1], axis=1), rows, True, -1),
             (np.argmax(fg[:, cols], axis=0), cols, False, 1),
             (h - 1 - np.argmax(fg[::-1, cols], axis=0), cols, False, -1)]
    canvas = np.zeros_like(fg)
    for first, lines, horizontal, inward in sides:
        line = int(np.bincount(first).argmax())
        straight = first == line
        limit = w if horizontal else h
        if straight.mean() < 0.5 or line in (0, limit - 1):
            continue
        depth = np.clip(line + inward * np.arange(2, 5), 0, limit - 1)  # past the edge's mixed pixel
        at = (lines[straight][:, None], depth[None, :]) if horizontal else (depth[None, :], lines[straight][:, None])
        colour = lab[at].reshape(-1, 3)
        mid = np.median(colour, axis=0)
        if np.median(texture[at]) > 0.1 or np.percentile(_norm(colour - mid), 80) > 0.6:
            continue  # not flat and even: a garment's straight edge after all
        like = fg & (_norm(lab - mid) < 1.0) & (texture < 0.25)
        n, labels = cv2.connectedComponents(like.astype(np.uint8), connectivity=4)
        seeds = np.zeros(n, bool)
        seeds[np.unique(labels[at])] = True
        seeds[0] = False
        canvas |= seeds[labels]
    return canvas


def _cast_shadow(lab: np.ndarray, fg: np.ndarray, backdrop: np.ndarray, texture: np.ndarray,
                 grain: float) -> np.ndarray:
    """The garment's cast shadow, to leave out: the backdrop a little darker (not by more than a soft
    studio shadow darkens it), of its own hue and nearly as smooth, in a rim along the outline,
    reaching the outline from outside. A white or cream garment on a backdrop of its own colour looks
    like that too: when the shadow-like part is more than a rim's share of the garment, it is taken
    for garment."""
    diff = lab - backdrop
    darker = -diff[..., 0]
    hue = _norm(diff[..., 1:])
    rim = fg & ~cv2.erode(fg.astype(np.uint8), _DISK1, iterations=8, borderValue=1).astype(bool)
    like = (rim & (darker > 1.0) & (darker < 25.0) & (hue < 1.5 + 0.12 * darker)
            & (texture < 2.0 * grain + 0.5))
    if not like.any():
        return like
    n, labels = cv2.connectedComponents(like.astype(np.uint8), connectivity=4)
    edge = cv2.dilate((~fg).astype(np.uint8), _DISK1).astype(bool) & fg
    touching = np.zeros(n, bool)
    touching[np.unique(labels[edge & like])] = True
    touching[0] = False
    shadow = touching[labels]
    if shadow.sum() > 0.12 * fg.sum():
        return np.zeros_like(shadow)
    return shadow


def _fill_enclosed(fg: np.ndarray, backdrop_like: np.ndarray) -> np.ndarray:
    """Holes filled, but a small hole that is mostly backdrop (the backdrop seen between a sleeve and
    the body, or between the legs) stays open, unless the garment itself has parts of the backdrop's
    colour (white stripes on a white backdrop): then such a hole may be one of them."""
    holes = _holes(fg)
    if not holes.any():
        return fg
    inside = cv2.erode(fg.astype(np.uint8), _DISK1, iterations=2).astype(bool)
    if backdrop_like[inside].mean() > 0.01:
        return fg | holes
    n, labels, stats, _ = cv2.connectedComponentsWithStats(holes.astype(np.uint8), connectivity=4)
    like = np.bincount(labels.ravel(), weights=backdrop_like.ravel(), minlength=n) / np.maximum(stats[:, 4], 1)
    # a gap is a small part of the garment; a large hole of the backdrop's colour is a white garment's
    # own part matching the backdrop, enclosed by its outline
    area = fg.sum() + holes.sum()
    open_ = (like > 0.6) & (stats[:, 4] >= max(20, 0.0005 * fg.size)) & (stats[:, 4] <= 0.1 * area)
    open_[0] = True
    return fg | ~open_[labels]


def _holes(mask: np.ndarray) -> np.ndarray:
    """The pixels outside `mask` that the outside of the image cannot reach (4-connected)."""
    pad = np.pad(mask.astype(np.uint8), 1)
    cv2.floodFill(pad, None, (0, 0), 1)
    return pad[1:-1, 1:-1] == 0


def _coverage(lab: np.ndarray, fg: np.ndarray, backdrop: np.ndarray, passes: int = 4) -> np.ndarray:
    """The mask as a fraction per pixel: 1 inside, 0 outside, and on the outline the pixel's position
    between the backdrop's colour and the garment's colour just inside. A cast shadow, a JPEG halo, a
    composite's fringe of its source's own backdrop or an anti-aliased edge sits near the backdrop's
    end: it is peeled off, pass by pass. Where the two colours are too close to tell apart (white on
    white), the binary mask stays."""
    fg = fg.copy()
    smooth = cv2.blur(lab, (3, 3))
    for step in range(passes):
        # the garment's colour just inside: at the nearest pixel 4 px in (past any halo), so that a
        # stripe's end is weighed against its own stripe
        core = cv2.erode(fg.astype(np.uint8), _DISK1, iterations=6)
        if not core.any():
            break
        depth, nearest = cv2.distanceTransformWithLabels(1 - core, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL)
        cy, cx = np.nonzero(core)
        rim = fg & ~cv2.erode(fg.astype(np.uint8), _DISK1, iterations=2).astype(bool)
        if step == passes - 1:  # the last pass also weighs the pixels just outside
            rim = cv2.dilate(fg.astype(np.uint8), _DISK1, iterations=2).astype(bool) & ~cv2.erode(
                fg.astype(np.uint8), _DISK1, iterations=2).astype(bool)
        band = rim & (depth <= 10)
        ys, xs = np.nonzero(band)
        if not len(ys):
            break
        alpha, ok = _alpha(lab, smooth, backdrop, core, cy, cx, nearest[ys, xs] - 1, ys, xs)
        if step < passes - 1:
            drop = ok & (alpha < 0.5)
            if not drop.any():
                continue
            fg[ys[drop], xs[drop]] = False
            continue
        soft = fg.astype(np.float32)
        soft[ys[ok], xs[ok]] = np.clip(alpha[ok], 0, 1)
        return soft
    return fg.astype(np.float32)


_AROUND = [(dy, dx) for dy in (-3, 0, 3) for dx in (-3, 0, 3)]


def _alpha(lab: np.ndarray, smooth: np.ndarray, backdrop: np.ndarray, core: np.ndarray, cy: np.ndarray,
           cx: np.ndarray, at: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's position between the backdrop's colour (0) and the garment's (1), the garment's
    colour taken around the nearest pixel well inside: of those colours, the one the pixel is most
    like (a print's light patch at the outline is weighed against the light patch, not the dark spot
    beside it). Decided only where the two colours are 2 ΔE apart at least (below, the edge's colour
    says nothing), and not for a pixel far beyond the backdrop's end: no mixture of the two, but the
    garment's own shade (a stripe's end in a fold)."""
    h, w = core.shape
    here = lab[ys, xs] - backdrop[ys, xs]
    best = np.full(len(ys), -np.inf, np.float32)
    for dy, dx in _AROUND:
        y, x = np.clip(cy[at] + dy, 0, h - 1), np.clip(cx[at] + dx, 0, w - 1)
        gap = smooth[y, x] - backdrop[ys, xs]
        contrast = (gap * gap).sum(1)
        a = (here * gap).sum(1) / np.maximum(contrast, 1e-6)
        a[(contrast <= 4.0) | (core[y, x] == 0)] = -np.inf
        best = np.maximum(best, a)
    return best, best > -0.5


def _lstsq(design: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Least squares through the normal equations (a few coefficients, many samples: fast)."""
    d = design.astype(np.float64)
    return np.linalg.solve(d.T @ d + 1e-9 * np.eye(d.shape[1]), d.T @ values.astype(np.float64))


def _basis(y: np.ndarray, x: np.ndarray, h: int, w: int, quadratic: bool) -> np.ndarray:
    y, x = y / h - 0.5, x / w - 0.5
    terms = [np.ones_like(x), x, y] + ([x * x, x * y, y * y] if quadratic else [])
    return np.stack(terms, axis=-1)


def _surface(coef: np.ndarray, h: int, w: int) -> np.ndarray:
    """The fitted plane or quadratic (the coefficients of `_basis`, one column per channel) at every
    pixel: a + b y + c y², each a polynomial in x, by broadcasting."""
    x = (np.arange(w, dtype=np.float32) / w - 0.5)[None, :, None]
    y = (np.arange(h, dtype=np.float32) / h - 0.5)[:, None, None]
    c = coef.astype(np.float32)
    if len(c) == 3:
        return (c[0] + c[1] * x) + c[2] * y
    return (c[0] + c[1] * x + c[3] * x * x) + (c[2] + c[4] * x) * y + c[5] * (y * y)


def _norm(a: np.ndarray) -> np.ndarray:
    """The length of the last axis' vectors (a Lab difference: ΔE)."""
    return np.sqrt(np.einsum("...k,...k->...", a, a))


def _backdrop(lab: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """The backdrop's colour over the whole image, fitted to the image border as a plane per Lab
    channel (a curved fit to the border alone would extrapolate into the middle), refitted without
    the border pixels the garment covers. Returns the backdrop image, its residual spread, and the
    border pixels that fit it."""
    h, w = lab.shape[:2]
    band = max(2, min(h, w) // 64)
    edge = np.zeros((h, w), bool)
    edge[:band], edge[-band:], edge[:, :band], edge[:, -band:] = True, True, True, True
    ys, xs = np.nonzero(edge)
    design, values = _basis(ys.astype(np.float32), xs.astype(np.float32), h, w, False), lab[ys, xs]
    coef, residual, keep = _robust_fit(design, values, 2.0, 3.0)
    sample = np.zeros((h, w), bool)
    sample[ys[keep], xs[keep]] = True
    model = _surface(coef, h, w)
    if keep.mean() < 0.6:  # most of the border fits no smooth backdrop: a scene, not a studio shot
        return model, np.inf, sample
    return model, float(np.percentile(residual[keep], 95)), sample


def _robust_fit(design: np.ndarray, values: np.ndarray, floor: float, spread: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least squares refitted three times without the values off the last fit by more than
    `spread` times the median residual (at least `floor` ΔE): a shadow or a stain is not backdrop.
    Returns the coefficients, every value's residual and which values the fit kept."""
    keep = np.ones(len(values), bool)
    for _ in range(3):
        coef = _lstsq(design[keep], values[keep])
        residual = _norm(values - design @ coef)
        keep = residual <= max(floor, spread * float(np.median(residual[keep])))
    return coef, residual, keep


def _fit_backdrop(lab: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """A quadratic backdrop per Lab channel fitted to the pixels `outside` the garment (every other
    row and column), robustly: pixels far off the first fit (a cast shadow, a stain) are refitted
    without."""
    h, w = outside.shape
    ys, xs = np.nonzero(outside[::2, ::2])
    ys, xs = ys * 2, xs * 2
    if len(ys) < 50:
        return _backdrop(lab)[0]
    design, values = _basis(ys.astype(np.float32), xs.astype(np.float32), h, w, True), lab[ys, xs]
    coef, _, keep = _robust_fit(design, values, 0.5, 2.5)
    model = _surface(coef, h, w)
    # what the quadratic misses (a vignette, a darker floor), smoothed over the backdrop and spread
    # into the garment's area by normalized convolution
    weight = outside.astype(np.float32)
    weight[ys[~keep], xs[~keep]] = 0  # not the outliers
    coarse = (max(1, w // 4), max(1, h // 4))  # smooth at a quarter of the size: the same, faster
    sigma = max(coarse) / 16
    spread = cv2.GaussianBlur(cv2.resize(weight, coarse, interpolation=cv2.INTER_AREA), (0, 0), sigma)
    residual = cv2.GaussianBlur(cv2.resize((lab - model) * weight[..., None], coarse, interpolation=cv2.INTER_AREA),
                                (0, 0), sigma)
    fix = residual / np.maximum(spread, 1e-3)[..., None] * (spread > 0.02)[..., None]
    return model + cv2.resize(fix, (w, h), interpolation=cv2.INTER_LINEAR)


def _keep_main_pieces(mask: np.ndarray, min_share: float = 0.05) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=4)
    if n <= 2:
        return mask
    sizes = stats[:, cv2.CC_STAT_AREA]
    keep = sizes >= min_share * sizes[1:].max()
    keep[0] = False
    return keep[labels]


def fill_background(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Every background pixel takes the colour of its nearest garment pixel, so texture
    lookups at the silhouette's edge never pick up the backdrop."""
    if mask.all() or not mask.any():
        return rgb.copy()
    _, (iy, ix) = ndimage.distance_transform_edt(~mask, return_indices=True)
    return rgb[iy, ix]
