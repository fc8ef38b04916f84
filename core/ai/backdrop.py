"""The backdrop of a garment photo as a smooth colour field per Lab channel: a plane fitted to the
image border, then a quadratic with a smoothed residual fitted to everything outside the garment.
The classical cut-out measures the garment against it."""

from __future__ import annotations

import cv2
import numpy as np


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


def norm(a: np.ndarray) -> np.ndarray:
    """The length of the last axis' vectors (a Lab difference: ΔE)."""
    return np.sqrt(np.einsum("...k,...k->...", a, a))


def border_backdrop(lab: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
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
        residual = norm(values - design @ coef)
        keep = residual <= max(floor, spread * float(np.median(residual[keep])))
    return coef, residual, keep


def fit_backdrop(lab: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """A quadratic backdrop per Lab channel fitted to the pixels `outside` the garment (every other
    row and column), robustly: pixels far off the first fit (a cast shadow, a stain) are refitted
    without."""
    h, w = outside.shape
    ys, xs = np.nonzero(outside[::2, ::2])
    ys, xs = ys * 2, xs * 2
    if len(ys) < 50:
        return border_backdrop(lab)[0]
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
