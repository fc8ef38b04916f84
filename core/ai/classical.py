"""The classical cut-out, which needs no weights: the garment told from a backdrop model by colour
distance and texture against the backdrop's own noise, the outline filled, a pasted canvas and a
cast shadow left out, the edge given a fractional coverage."""

from __future__ import annotations

import cv2
import numpy as np

from core.ai.backdrop import border_backdrop, fit_backdrop, norm
from core.ai.coverage import coverage
from core.ai.morphology import DISK1, DISK3, close, holes_in, keep_main_pieces, local_std

WORK_SIDE = 384  # segmentation runs at this size, the mask is scaled back up
MAX_BACKDROP_SPREAD = 15.0  # Lab units: product backdrops measure 0-2, textured ones up to ~10


def classical_mask(rgb: np.ndarray) -> tuple[np.ndarray, float]:
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
    backdrop, spread, border = border_backdrop(lab)
    if spread > MAX_BACKDROP_SPREAD:
        return np.zeros((h, w), bool), spread
    texture = local_std(lab[..., 0])
    fg = _garment(lab, backdrop, texture, border)
    fg &= ~_pasted_canvas(lab, fg, texture)
    if not fg.any():
        return np.zeros((h, w), bool), spread
    for _ in range(2):  # the backdrop seen everywhere outside the garment, then the garment again
        outside = ~cv2.dilate(fg.astype(np.uint8), DISK3).astype(bool)
        backdrop = fit_backdrop(lab, outside)
        fg = _garment(lab, backdrop, texture, outside)
        fg &= ~_pasted_canvas(lab, fg, texture)
    grain = float(np.percentile(texture[outside], 98)) if outside.any() else 0.0
    fg &= ~_cast_shadow(lab, fg, backdrop, texture, grain)
    soft = coverage(lab, fg, backdrop)
    soft[(soft > 0.5) & ~keep_main_pieces(soft > 0.5)] = 0  # specks and strays: not the garment
    mask = cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR) > 0.5 if scale < 1 else soft > 0.5
    return mask, spread


def _garment(lab: np.ndarray, backdrop: np.ndarray, texture: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """Pixels unlike the backdrop: far from its colour, or textured where it is flat, in regions
    that hold at least one pixel clearly unlike it (hysteresis); what they enclose is filled.
    `sample`: pixels of the backdrop, to measure its noise and grain on."""
    diff = lab - backdrop
    dist = norm(diff)
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
    fg = close(fg, DISK1)
    darker = -diff[..., 0]
    shaded = (darker > 1.0) & (darker < 25.0) & (norm(diff[..., 1:]) < 1.5 + 0.12 * darker)
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
        if np.median(texture[at]) > 0.1 or np.percentile(norm(colour - mid), 80) > 0.6:
            continue  # not flat and even: a garment's straight edge after all
        like = fg & (norm(lab - mid) < 1.0) & (texture < 0.25)
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
    hue = norm(diff[..., 1:])
    rim = fg & ~cv2.erode(fg.astype(np.uint8), DISK1, iterations=8, borderValue=1).astype(bool)
    like = (rim & (darker > 1.0) & (darker < 25.0) & (hue < 1.5 + 0.12 * darker)
            & (texture < 2.0 * grain + 0.5))
    if not like.any():
        return like
    n, labels = cv2.connectedComponents(like.astype(np.uint8), connectivity=4)
    edge = cv2.dilate((~fg).astype(np.uint8), DISK1).astype(bool) & fg
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
    holes = holes_in(fg)
    if not holes.any():
        return fg
    inside = cv2.erode(fg.astype(np.uint8), DISK1, iterations=2).astype(bool)
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
