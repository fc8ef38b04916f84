"""Custom avatars from tape measurements: anny's phenotype solved so the body measures as asked."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from core.avatars.builder import Body, Phenotype, build_body
from core.errors import InputError

# Plausible adult ranges, in cm; outside them anny cannot make a believable body.
LIMITS = {"height_cm": (140.0, 210.0), "chest_cm": (65.0, 150.0), "waist_cm": (50.0, 150.0),
          "hips_cm": (70.0, 160.0)}
GENDERS = {"female": 1.0, "male": 0.0}
TOLERANCE_CM = 1.0


@dataclass(frozen=True)
class Measurements:
    height_cm: float
    chest_cm: float
    waist_cm: float
    hips_cm: float
    gender: str

    def __post_init__(self) -> None:
        if self.gender not in GENDERS:
            raise InputError(f"Unknown gender {self.gender!r}; choose female or male.")
        for name, (lo, hi) in LIMITS.items():
            value = getattr(self, name)
            if not isinstance(value, int | float) or not np.isfinite(value) or not lo <= value <= hi:
                raise InputError(f"{name.removesuffix('_cm')} must be between {lo:g} and {hi:g} cm (got {value}).")

    @property
    def key(self) -> str:
        """Measurements rounded to 5 mm: the same body is not built twice."""
        parts = [f"{round(2 * v) / 2:g}" for v in (self.height_cm, self.chest_cm, self.waist_cm, self.hips_cm)]
        return f"custom-{self.gender}-" + "-".join(parts)


@dataclass(frozen=True)
class SolvedBody:
    body: Body
    error_cm: dict[str, float]


def solve(m: Measurements, max_evaluations: int = 40) -> SolvedBody:
    """Weight, muscle, proportions and (adult) age by bounded least squares (height is solved inside each
    build); the residuals are the chest, waist and hips girths a tape would measure."""
    targets = np.array([m.chest_cm, m.waist_cm, m.hips_cm])
    cache: dict[tuple, Body] = {}

    def body_for(x: np.ndarray) -> Body:
        key = tuple(np.round(x, 6))
        if key not in cache:
            cache[key] = build_body(Phenotype(gender=GENDERS[m.gender], height_cm=m.height_cm,
                                              weight=float(x[0]), muscle=float(x[1]), proportions=float(x[2]),
                                              age=float(x[3])))
        return cache[key]

    def residual(x: np.ndarray) -> np.ndarray:
        got = body_for(x).measurements
        return np.array([got["chest_cm"], got["waist_cm"], got["hips_cm"]]) - targets

    # age stays adult (anny: 0.6-1.0); it shifts where a body carries its width.
    fit = least_squares(residual, x0=np.array([0.5, 0.5, 0.5, 0.78]), bounds=([0, 0, 0, 0.6], [1, 1, 1, 1]),
                        diff_step=0.1, max_nfev=max_evaluations, xtol=1e-4, ftol=1e-4)
    body = body_for(fit.x)
    got = body.measurements
    errors = {k: round(got[f"{k}_cm"] - getattr(m, f"{k}_cm"), 1) for k in ("height", "chest", "waist", "hips")}
    return SolvedBody(body, errors)
