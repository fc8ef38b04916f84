"""What every flat pattern is (core/garment/patterns.py draws the bodice, the legs and the skirt):
named parameters within bounds, drawing landmarks, pieces and parts as polygons in the parse frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Polygon = np.ndarray  # (n, 2) points, x across, y down
FLIP = np.array([-1.0, 1.0])  # the mirror across the centre line


def mirror(half: Polygon) -> Polygon:
    """The right half's outline (from the centre line at the top round to the centre line at the
    bottom) with its mirror image: the whole closed outline."""
    return np.concatenate([half, half[::-1] * FLIP])


@dataclass(frozen=True)
class Param:
    name: str
    low: float
    high: float


@dataclass(frozen=True)
class Pattern:
    """One family of shapes: its parameters and how they draw the outline and the parts."""

    name: str
    params: tuple[Param, ...]

    @property
    def bounds(self) -> list[tuple[float, float]]:
        return [(p.low, p.high) for p in self.params]

    def index(self, name: str) -> int:
        return [p.name for p in self.params].index(name)

    def named(self, x: np.ndarray) -> dict[str, float]:
        return {p.name: float(v) for p, v in zip(self.params, x, strict=True)}

    def vector(self, **values: float) -> np.ndarray:
        """The parameter vector of named values."""
        return np.array([values[p.name] for p in self.params])

    def points(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """The outline's landmarks (right side; the left mirrors them), as drawn: the parameters
        after the pattern's constraints."""
        raise NotImplementedError

    def pieces(self, x: np.ndarray) -> list[Polygon]:
        """Polygons whose union is the garment's silhouette (pieces may overlap, as a sleeve laid
        over the body does)."""
        return list(self.parts(x).values())

    def parts(self, x: np.ndarray) -> dict[str, Polygon]:
        """Each part's region (polygons that tile the outline)."""
        raise NotImplementedError
