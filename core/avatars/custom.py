"""Custom avatars from tape measurements: anny's phenotype solved so the body measures as asked."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from core.avatars.builder import _JOINTS, Body, Phenotype, build_body
from core.avatars.measure import measure
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


def _tailor(body: Body, m: Measurements, rounds: int = 2, max_change: float = 0.08) -> Body:
    """What the phenotype alone cannot reach: a smooth horizontal scaling of the body by height,
    1 at the shoulders and at mid-thigh, the needed ratio at the chest, waist and hips levels (at
    most ±8 %), as a tailor's dummy is padded. Girths scale exactly with it; re-measured after."""
    mesh = body.mesh.copy()
    joints = {k: np.asarray(body.landmarks[k], float) for k in _JOINTS}
    landmarks, measurements = body.landmarks, body.measurements
    for _ in range(rounds):
        ratios = [float(np.clip(getattr(m, f"{k}_cm") / measurements[f"{k}_cm"], 1 - max_change, 1 + max_change))
                  for k in ("hips", "waist", "chest")]
        if max(abs(r - 1) for r in ratios) < 0.002:
            break
        lm = {k: np.asarray(v, float) for k, v in landmarks.items()}
        levels = [(lm["crotch"][1] + lm["knee_l"][1]) / 2, lm["hips"][1], lm["waist"][1], lm["chest"][1],
                  lm["shoulder_l"][1]]
        if np.any(np.diff(levels) <= 0):
            break
        centre = lm["pelvis"][[0, 2]]

        def padded(points: np.ndarray, levels=levels, ratios=ratios, centre=centre) -> np.ndarray:
            out = points.copy()
            scale = np.interp(points[:, 1], levels, [1.0, *ratios, 1.0])
            out[:, [0, 2]] = centre + (points[:, [0, 2]] - centre) * scale[:, None]
            return out

        mesh.vertices = padded(mesh.vertices)
        joints = dict(zip(joints, padded(np.array(list(joints.values()))), strict=True))
        landmarks, measurements = measure(mesh, joints)
    return Body(mesh=mesh, landmarks=landmarks, measurements=measurements, phenotype=body.phenotype)


def solve(m: Measurements, max_evaluations: int = 16) -> SolvedBody:
    """Weight, muscle, proportions and (adult) age by bounded least squares (height is solved inside each
    build; the residuals are the chest, waist and hips girths a tape would measure), then the last
    centimetres by `_tailor`."""
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
    body = _tailor(body_for(fit.x), m)
    got = body.measurements
    errors = {k: round(got[f"{k}_cm"] - getattr(m, f"{k}_cm"), 1) for k in ("height", "chest", "waist", "hips")}
    return SolvedBody(body, errors)
