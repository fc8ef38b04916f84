"""A garment's body (the torso of a top or a dress, a skirt, the seat of trousers) wrapped round
the body's own cross-sections: the flat garment's front sheet goes round the front half of the
section at its height, the back sheet round the back half, its sides meeting at the body's sides;
its girth is the flat width doubled (never less than the section's, plus ROOM_M), so a loose
garment stands off evenly and a fitted one follows the body. A skirt hangs: below the hips its
section never narrows (it does not tuck in between the legs)."""

from __future__ import annotations

import numpy as np

from core.fitting.body import ANGLES, DIRECTIONS, BodyModel

ROOM_M = 0.02  # the least the cloth clears the section by, before the clearance's offset
ROW_M = 0.02  # the flat garment's rows, this high, each measured for its half-width


def _smooth(values: np.ndarray, passes: int = 2) -> np.ndarray:
    """A profile along the rows smoothed by (1, 2, 1) / 4, its ends held."""
    out = values.astype(float)
    for _ in range(passes):
        if len(out) > 2:
            out[1:-1] = (out[:-2] + 2 * out[1:-1] + out[2:]) / 4
    return out


def wrap_body(v: np.ndarray, part: np.ndarray, hangs: np.ndarray, body: BodyModel, centre_x: float,
              fills: np.ndarray | None = None, roof: np.ndarray | None = None) -> np.ndarray:
    """The points of the garment's body (`part`; `hangs` marks a skirt's) wrapped round the body's
    sections at their heights. `v` holds the garment placed flat: scaled, at its height, its centre
    line on the body's middle (x = `centre_x`); depth > 0 of a row's middle is its front sheet.
    Rows of `fills` reach the section's sides however narrow they are: a garment's body below its
    armholes (a tube: its front and back are sewn together at the sides, and a fitted one
    stretches round the body rather than gape open there), a bodice's shoulders sewn to its
    sleeves' armholes. Other rows (straps, a neckline) keep their own width. Points of `roof`
    (cloth facing up: a 3D garment's shoulders, from its front over to its back) lie between
    the front's place and the back's by their depth: wrapped to one or the other, the cloth
    across the shoulders' top would be stretched into a web and torn open."""
    out = v.copy()
    idx = np.flatnonzero(part)
    if not len(idx):
        return out
    p = v[idx]
    at = (p[:, 1].max() - p[:, 1]) / ROW_M  # each point's place among the rows, top down
    rows = np.floor(at).astype(int)
    n = int(rows.max()) + 1
    dx = p[:, 0] - centre_x
    right = dx >= 0
    # Each row's outline, out to either side: a photo's garment is not quite symmetric, and its
    # narrower side, wrapped by the wider one's width, stopped short of the body's side there:
    # its front and back, sewn together along the outline, parted in a slit.
    sides = np.zeros((2, n))
    np.maximum.at(sides, (right.astype(int), rows), np.abs(dx))
    middle_z = np.bincount(rows, p[:, 2], n) / np.maximum(np.bincount(rows, minlength=n), 1)
    # Between rows the outline's half-widths and the middle depth are interpolated, smoothed over
    # the next rows: read row by row, each row's cloth would jump, and show as ridges.
    sides, middle_z = np.array([_smooth(side) for side in sides]), _smooth(middle_z)
    centres = np.arange(n) + 0.5
    front = p[:, 2] >= np.interp(at, centres, middle_z)
    section = body.sections.at(p[:, 1])
    ex, ez, a, _, free = section.T
    radii = body.sections.radii_at(p[:, 1])  # the outline's own radii: a shoulder is no ellipse
    have = a > 0  # above the neck there is no section: left as placed
    # a skirt's rows, top down: its section never narrower than the one above it, in any direction
    skirt_rows = np.unique(rows[hangs[idx]])
    if len(skirt_rows):
        row_r = np.zeros((n, radii.shape[1]))
        np.maximum.at(row_r, rows, np.where(have[:, None], radii, 0.0))
        row_r[skirt_rows] = np.maximum.accumulate(row_r[skirt_rows], axis=0)
        hanging = hangs[idx]
        radii = np.where(hanging[:, None], np.maximum(radii, row_r[rows]), radii)
        have |= hanging & (radii.max(axis=1) > 0)  # below the feet a skirt still hangs as the sections above it
    radii = radii + ROOM_M
    left_half, right_half = (np.interp(at, centres, side) for side in sides)
    own = np.where(right, right_half, left_half)  # the outline's reach on the point's own side
    girth = 2 * (left_half + right_half)  # front and back, each the row's flat width
    perimeter = _perimeter_of(radii)
    k = np.maximum(1.0, girth / np.maximum(perimeter, 1e-9))
    # Round the section by angle from the middle: a row as wide as the body's half-girth or
    # wider reaches the sides (the loose ones standing off by k), a narrower one (straps, a
    # neckline) keeps its own width and covers only that much of the front and back.
    reach = np.where(fills[idx], own, k * perimeter / 4) if fills is not None else k * perimeter / 4
    theta = np.clip(dx / np.maximum(reach, 1e-6), -1.0, 1.0) * np.pi / 2
    wrapped = _around(np.where(front, 1.0, -1.0), theta, k, radii, free, ex, ez, p[:, 1])
    if roof is not None and roof[idx].any():
        up = np.flatnonzero(roof[idx])
        depth = np.zeros(n)
        np.maximum.at(depth, rows, np.abs(p[:, 2] - middle_z[rows]))
        share = np.clip((p[up, 2] - middle_z[rows[up]]) / np.maximum(depth[rows[up]], 1e-6), -1.0, 1.0)[:, None]
        ends = [_around(np.full(len(up), sign), theta[up], k[up], radii[up], free[up], ex[up], ez[up], p[up, 1])
                for sign in (1.0, -1.0)]
        wrapped[up] = (1 + share) / 2 * ends[0] + (1 - share) / 2 * ends[1]
    out[idx] = np.where(have[:, None], wrapped, p)
    return out


def _around(side: np.ndarray, theta: np.ndarray, k: np.ndarray, radii: np.ndarray, free: np.ndarray,
            ex: np.ndarray, ez: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Points on the front (`side` 1) or back (-1) of their sections, `theta` round from the
    middle, `k` times the outline's radius out."""
    phi = np.where(side > 0, theta, np.pi - theta)  # the direction's angle from the front, towards +x
    radius = k * _radius_towards(radii, phi)
    # never out into the arms beside the torso: the cloth between them stays within the free room
    across = np.clip(radius * np.sin(theta), -(free - ROOM_M), free - ROOM_M)
    return np.column_stack([ex + across, y, ez + side * radius * np.cos(theta)])


def _radius_towards(radii: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Each row's radius towards its angle `phi`, interpolated between the two nearest directions."""
    at = np.mod(phi, 2 * np.pi) / (2 * np.pi) * ANGLES
    j = np.floor(at).astype(int) % ANGLES
    t = at - np.floor(at)
    rows = np.arange(len(radii))
    return (1 - t) * radii[rows, j] + t * radii[rows, (j + 1) % ANGLES]


def _perimeter_of(radii: np.ndarray) -> np.ndarray:
    """The length of each row's outline, given by its radii in evenly spaced directions."""
    x, z = radii * np.sin(DIRECTIONS), radii * np.cos(DIRECTIONS)
    return np.hypot(np.roll(x, -1, axis=1) - x, np.roll(z, -1, axis=1) - z).sum(axis=1)
