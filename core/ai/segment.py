"""Garment cut-out: a real alpha channel as is; else rembg (U²-Net) when its model is on disk; else a
border colour model refined by GrabCut, which needs no weights."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage

from core.errors import InputError

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


def cut_out(image: Image.Image) -> Cutout:
    if image.mode == "RGBA":
        rgba = np.asarray(image)
        mask = rgba[..., 3] > 127
        method = "alpha"
        rgb = rgba[..., :3]
    elif (session := rembg_session()) is not None:
        rgb = np.asarray(image.convert("RGB"))
        mask = _rembg_mask(rgb, session)
        method = f"rembg:{session.model_name}"
    else:
        rgb = np.asarray(image.convert("RGB"))
        mask, spread = _classical_mask(rgb)
        method = "border-model+grabcut"
        if spread > MAX_BACKDROP_SPREAD:
            raise InputError(NO_GARMENT + " (the background is not plain)")
    mask = _keep_main_pieces(mask)
    share = mask.mean()
    if share < 0.005:
        raise InputError(NO_GARMENT)
    if share < 0.03:
        raise InputError(f"The garment is too small in the photo ({share:.1%} of it): please crop closer to it.")
    sides = np.array([mask[0].mean(), mask[-1].mean(), mask[:, 0].mean(), mask[:, -1].mean()])
    if (sides > 0.2).sum() >= 3 or share > 0.95:  # a garment may touch one or two edges, not fill the frame
        raise InputError(NO_GARMENT + " (the picture is filled edge to edge)")
    return Cutout(rgb=np.ascontiguousarray(rgb), mask=mask, method=method)


@lru_cache(maxsize=1)
def rembg_session():
    """rembg's session when the package is installed and its model file is already on disk (rembg
    looks in U2NET_HOME or REMBG_HOME), or REMBG_DOWNLOAD=1 lets it fetch the file; otherwise None
    and the classical cut-out runs. REMBG_MODEL picks the model (default u2net)."""
    try:
        import rembg
        from rembg.sessions import sessions_class
    except ImportError:
        return None
    name = os.environ.get("REMBG_MODEL", "u2net")
    session_class = next((c for c in sessions_class if c.name() == name), None)
    if session_class is None:
        log.warning("rembg has no model %r; using the classical cut-out", name)
        return None
    if session_class.resolve_existing(f"{name}.onnx") is None and os.environ.get("REMBG_DOWNLOAD") != "1":
        return None
    try:
        return rembg.new_session(name)
    except Exception:
        log.exception("rembg model %r could not be loaded; using the classical cut-out", name)
        return None


def _rembg_mask(rgb: np.ndarray, session) -> np.ndarray:
    from rembg import remove

    alpha = remove(Image.fromarray(rgb), session=session, only_mask=True, post_process_mask=True)
    return ndimage.binary_fill_holes(np.asarray(alpha) > 127)


def _classical_mask(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """The garment's mask and the backdrop's spread (how far from plain the border is)."""
    h, w = rgb.shape[:2]
    scale = WORK_SIDE / max(h, w)
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA) if scale < 1 else rgb.copy()
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    backdrop, spread = _backdrop(lab)
    dist = np.linalg.norm(lab - backdrop, axis=2)
    # A flat studio backdrop (spread ~0) lets a white garment on white stand out by a few units;
    # a textured backdrop needs a margin over its own variation.
    thr = float(np.clip(3.0 + 2.5 * spread, 3.0, 40.0))
    edges = _edge_region(small)
    fg = (dist > thr) | edges
    fg = ndimage.binary_opening(fg, iterations=1)
    fg = ndimage.binary_fill_holes(ndimage.binary_closing(fg, iterations=3))
    if fg.sum() > 0.02 * fg.size:
        # GrabCut refines the outline, but may drop a pale part whose outline the edges enclose
        fg = ndimage.binary_fill_holes(_grabcut(small, fg, dist, thr) | (edges & fg))
    mask = cv2.resize(fg.astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR) > 0
    return ndimage.binary_fill_holes(mask), spread


def _edge_region(rgb: np.ndarray) -> np.ndarray:
    """What the image's edges enclose: a white garment on a white or grey backdrop differs in
    colour by less than JPEG noise in places, but its outline still shows as an edge."""
    gray = cv2.GaussianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (3, 3), 0)
    edges = ndimage.binary_dilation(cv2.Canny(gray, 8, 24) > 0, iterations=2)
    region = ndimage.binary_erosion(ndimage.binary_fill_holes(edges), iterations=2)
    if region.mean() > 0.85:  # a busy backdrop: its edges enclose everything and say nothing
        return np.zeros_like(region)
    return region


def _backdrop(lab: np.ndarray) -> tuple[np.ndarray, float]:
    """The backdrop's colour over the whole image, fitted to the image border as a plane per Lab
    channel (studio light falls off and greys are graded; a curved fit would extrapolate into the
    middle and swallow white garments), refitted without the
    border pixels the garment covers. Returns the backdrop image and its residual spread."""
    h, w = lab.shape[:2]
    band = max(2, min(h, w) // 64)
    edge = np.zeros((h, w), bool)
    edge[:band], edge[-band:], edge[:, :band], edge[:, -band:] = True, True, True, True
    ys, xs = np.nonzero(edge)

    def basis(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        y, x = y / h - 0.5, x / w - 0.5
        return np.stack([np.ones_like(x), x, y], axis=-1)

    design, values = basis(ys.astype(np.float32), xs.astype(np.float32)), lab[ys, xs]
    keep = np.ones(len(values), bool)
    for _ in range(3):
        coef, *_ = np.linalg.lstsq(design[keep], values[keep], rcond=None)
        residual = np.linalg.norm(values - design @ coef, axis=1)
        keep = residual <= max(2.0, 3.0 * float(np.median(residual[keep])))
    gy, gx = np.mgrid[:h, :w].astype(np.float32)
    if keep.mean() < 0.6:  # most of the border fits no smooth backdrop: a scene, not a studio shot
        return basis(gy, gx) @ coef, np.inf
    return basis(gy, gx) @ coef, float(np.percentile(residual[keep], 95))


def _grabcut(img: np.ndarray, fg: np.ndarray, dist: np.ndarray, thr: float) -> np.ndarray:
    """GrabCut seeded by the colour model: sure background far from the garment, the rest probable.
    Run on the garment's box only (GrabCut's cost grows with the pixels it is given)."""
    near = ndimage.binary_dilation(fg, iterations=6)
    ys, xs = np.nonzero(near)
    box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    gc = np.full(near[box].shape, cv2.GC_PR_BGD, np.uint8)
    gc[~near[box]] = cv2.GC_BGD
    gc[fg[box]] = cv2.GC_PR_FGD
    gc[ndimage.binary_erosion(fg, iterations=6)[box] & (dist[box] > 2 * thr)] = cv2.GC_FGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(np.ascontiguousarray(img[box][..., ::-1]), gc, None, bgd, fgd, 2, cv2.GC_INIT_WITH_MASK)
    except cv2.error:  # e.g. no background sample left in the box
        return fg
    out = np.zeros_like(fg)
    out[box] = (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)
    out = ndimage.binary_fill_holes(ndimage.binary_opening(out, iterations=1))
    return out if out.sum() > 0.5 * fg.sum() else fg


def _keep_main_pieces(mask: np.ndarray, min_share: float = 0.05) -> np.ndarray:
    labels, n = ndimage.label(mask)
    if n <= 1:
        return mask
    sizes = ndimage.sum_labels(mask, labels, index=np.arange(1, n + 1))
    keep = np.flatnonzero(sizes >= min_share * sizes.max()) + 1
    return np.isin(labels, keep)


def fill_background(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Every background pixel takes the colour of its nearest garment pixel, so texture
    lookups at the silhouette's edge never pick up the backdrop."""
    if mask.all() or not mask.any():
        return rgb.copy()
    _, (iy, ix) = ndimage.distance_transform_edt(~mask, return_indices=True)
    return rgb[iy, ix]
