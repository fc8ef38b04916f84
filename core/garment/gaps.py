"""Where a photo shows background inside a garment's torso: the gap between a sleeve laid down
beside the body and the body's side. The pattern (core/garment/patterns.py) explains that cloth
as the torso's, as wide as its sleeves' outer edges, and a shell built from the photo's outline
kept the gap: wrapped round the body, it became a slit down each side, skin showing between the
torso's front and a strip of sleeve cloth. And the holes a cut-out leaves in the torso's cloth
(a shadow, a print the backdrop's colour), which were holes in the garment. A shell's openings
(neck, hem, cuffs) are cut along its outline (core/ai/silhouette.py), never from such holes."""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from core.garment.fitting import SIDE, Frame, pieces_of
from core.garment.parse import GarmentParse
from core.garment.patterns import SHAPES

SUBPIXEL_BITS = 4
PARTS_FILLED = ("torso", "skirt")


def torso_gaps(mask: np.ndarray, parse: GarmentParse) -> np.ndarray:
    """The background pixels of a cropped mask (its bounding box) that lie in the parse's torso or
    skirt below its armpits, with cloth on both sides of them in their row, and the holes the cloth
    encloses in them off the centre line: what the torso's cloth is, though the photo shows the
    backdrop there. None for a non-bodice or a turned photo (its frame is the turned mask's);
    below the armpits, a sleeveless bodice's sides are its outline, not bracketed by cloth."""
    gaps = np.zeros(mask.shape, bool)
    if parse.shape != "bodice" or parse.tilt or not mask.any():
        return gaps
    cloth, _ = pieces_of(mask)
    frame = Frame.of(cloth)
    left, top, _, down = cv2.boundingRect(cloth.astype(np.uint8))
    scale = SIDE / down
    # The pattern's origin (the frame's centre line, its top row) in the mask's pixels.
    origin = np.array([left + (frame.centre - SIDE // 4 + 0.5) / scale - 0.5, top - 0.5])
    parts = SHAPES["bodice"].parts(parse.x)
    inside = np.zeros(mask.shape, np.uint8)
    for name in PARTS_FILLED:  # one at a time: filled together, their overlap would stay empty
        pixels = (parts[name] * down + origin) * (1 << SUBPIXEL_BITS)
        cv2.fillPoly(inside, [np.round(pixels).astype(np.int32)], 1, shift=SUBPIXEL_BITS)
    rows = np.arange(mask.shape[0])
    band = rows >= top + SHAPES["bodice"].points(parse.x)["armpit"][1] * down
    within = (inside > 0) & band[:, None]
    held = cloth & within
    left_cloth = np.maximum.accumulate(held, axis=1)
    right_cloth = np.maximum.accumulate(held[:, ::-1], axis=1)[:, ::-1]
    gaps = within & ~cloth & left_cloth & right_cloth
    # and the holes the cloth encloses in the torso (what is left of a gap above the armpits'
    # row, closed off now; a hole between a sleeve's root and the body): none across the centre
    # line, where a neck opening enclosed by a halter's strap or a keyhole is
    filled = cloth | gaps
    holes, _ = ndimage.label(ndimage.binary_fill_holes(filled) & ~filled & (inside > 0))
    centre = round(origin[0])
    neck = np.unique(holes[:, centre]) if 0 <= centre < mask.shape[1] else np.zeros(0, int)
    return gaps | ((holes > 0) & ~np.isin(holes, neck))
