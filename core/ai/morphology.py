"""Mask morphology that the cut-outs share: the structuring disks, a closing that treats the frame's
outside as empty, holes, texture, and the pieces of a mask worth keeping."""

from __future__ import annotations

import cv2
import numpy as np

DISK3 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
DISK1 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))


def close(mask: np.ndarray, disk: np.ndarray) -> np.ndarray:
    """A morphological closing that treats the image's outside as empty (a garment running off the
    frame keeps its straight edge there)."""
    r = disk.shape[0] // 2
    pad = np.pad(mask.astype(np.uint8), r)
    return cv2.morphologyEx(pad, cv2.MORPH_CLOSE, disk)[r:-r, r:-r].astype(bool)


def local_std(channel: np.ndarray) -> np.ndarray:
    """Texture: the 3×3 standard deviation (fabric has a weave, a print, folds; a backdrop is flat)."""
    mean = cv2.blur(channel, (3, 3))
    return np.sqrt(np.maximum(cv2.blur(channel * channel, (3, 3)) - mean * mean, 0))


def holes_in(mask: np.ndarray) -> np.ndarray:
    """The pixels outside `mask` that the outside of the image cannot reach (4-connected)."""
    pad = np.pad(mask.astype(np.uint8), 1)
    cv2.floodFill(pad, None, (0, 0), 1)
    return pad[1:-1, 1:-1] == 0


def keep_main_pieces(mask: np.ndarray, min_share: float = 0.05) -> np.ndarray:
    """The mask's pieces of at least `min_share` of the largest one's area: specks and strays are not
    the garment."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=4)
    if n <= 2:
        return mask
    sizes = stats[:, cv2.CC_STAT_AREA]
    keep = sizes >= min_share * sizes[1:].max()
    keep[0] = False
    return keep[labels]
