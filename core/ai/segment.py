"""Garment cut-out: a real alpha channel as is, else a border colour model refined by GrabCut."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage

WORK_SIDE = 512  # segmentation runs at this size, the mask is scaled back up


@dataclass(frozen=True)
class Cutout:
    rgb: np.ndarray  # HxWx3 uint8, background filled with the nearest garment colour
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
    else:
        rgb = np.asarray(image.convert("RGB"))
        mask = _classical_mask(rgb)
        method = "border-model+grabcut"
    mask = _keep_main_pieces(mask)
    if mask.sum() < 0.01 * mask.size:
        from core.errors import InputError

        raise InputError("No garment found in the photo: please use a photo of one garment on a plain background.")
    return Cutout(rgb=fill_background(rgb, mask), mask=mask, method=method)


def _classical_mask(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = WORK_SIDE / max(h, w)
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA) if scale < 1 else rgb.copy()
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    band = max(2, min(small.shape[:2]) // 64)
    border = np.concatenate([lab[:band].reshape(-1, 3), lab[-band:].reshape(-1, 3),
                             lab[:, :band].reshape(-1, 3), lab[:, -band:].reshape(-1, 3)])
    centre = np.median(border, axis=0)
    spread = np.percentile(np.linalg.norm(border - centre, axis=1), 95)
    dist = np.linalg.norm(lab - centre, axis=2)
    thr = max(12.0, 2.5 * spread)
    fg = dist > thr
    fg = ndimage.binary_opening(fg, iterations=1)
    fg = ndimage.binary_fill_holes(fg)
    if fg.sum() > 0.02 * fg.size:
        fg = _grabcut(small, fg, dist, thr)
    mask = cv2.resize(fg.astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR) > 0
    return ndimage.binary_fill_holes(mask)


def _grabcut(img: np.ndarray, fg: np.ndarray, dist: np.ndarray, thr: float) -> np.ndarray:
    """GrabCut seeded by the colour model: sure background far from the garment, the rest probable."""
    gc = np.full(fg.shape, cv2.GC_PR_BGD, np.uint8)
    near = ndimage.binary_dilation(fg, iterations=6)
    gc[~near] = cv2.GC_BGD
    gc[fg] = cv2.GC_PR_FGD
    gc[ndimage.binary_erosion(fg, iterations=6) & (dist > 2 * thr)] = cv2.GC_FGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(np.ascontiguousarray(img[..., ::-1]), gc, None, bgd, fgd, 3, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        return fg
    out = (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)
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
