"""The six Zero123++ v1.2 views and their InstantMesh input cameras.

Zero123++ writes its views into a 3 × 2 grid of 320 px tiles (view = row·2 + col); azimuths are
relative to the input view, elevations absolute, field of view 30°. InstantMesh reads each view
with a 16-number camera: the first three rows of the camera-to-world matrix (OpenGL axes, world
z up) and the intrinsics normalised by the image size.
"""

from __future__ import annotations

import numpy as np

AZIMUTHS_DEG = (30.0, 90.0, 150.0, 210.0, 270.0, 330.0)
ELEVATIONS_DEG = (20.0, -10.0, 20.0, -10.0, 20.0, -10.0)
FOV_DEG = 30.0
TILE = 320
GRID_ROWS, GRID_COLS = 3, 2
INPUT_RADIUS = 4.0


def camera_to_world(azimuth_deg: float, elevation_deg: float, radius: float) -> np.ndarray:
    """4×4 camera-to-world looking at the origin; the camera's +z points away from it (OpenGL)."""
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    pos = radius * np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    z = pos / np.linalg.norm(pos)
    x = np.cross([0.0, 0.0, 1.0], z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, y, z, pos
    return m


def input_cameras(radius: float = INPUT_RADIUS, fov_deg: float = FOV_DEG) -> np.ndarray:
    """[6, 16] float32: extrinsics (3 rows of c2w, row-major) + (fx, fy, cx, cy) over image size."""
    f = 0.5 / np.tan(np.radians(fov_deg) / 2)
    rows = [np.concatenate([camera_to_world(a, e, radius)[:3].reshape(-1), [f, f, 0.5, 0.5]])
            for a, e in zip(AZIMUTHS_DEG, ELEVATIONS_DEG, strict=True)]
    return np.stack(rows).astype(np.float32)


def split_grid(grid: np.ndarray) -> np.ndarray:
    """A [3·T, 2·T, 3] multi-view image → [6, 3, T, T] in view order (row-major)."""
    h, w = grid.shape[:2]
    t = h // GRID_ROWS
    if (h, w) != (GRID_ROWS * t, GRID_COLS * t):
        raise ValueError(f"expected a {GRID_ROWS}×{GRID_COLS} grid of square tiles, got {w}×{h}")
    tiles = grid.reshape(GRID_ROWS, t, GRID_COLS, t, -1).transpose(0, 2, 4, 1, 3)
    return tiles.reshape(GRID_ROWS * GRID_COLS, -1, t, t)
