"""Bodies from the anny parametric model (MakeHuman data, CC0): phenotype in, mesh + landmarks out."""

from __future__ import annotations

import fcntl
import importlib.metadata
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import trimesh

from core.avatars.measure import measure
from core.mesh.frames import to_gltf_frame

SKIN = [224, 187, 160, 255]
# Bumped whenever the same phenotype would give another body (mesh or landmarks): a custom
# avatar stored by an older build is built again when asked for (2: the posed body's joints).
BUILD = 2
# anny bone → landmark name; bone heads are the joints.
_JOINTS = {"pelvis": "root", "neck": "neck01", "head": "head",
           "shoulder_l": "upperarm01.L", "shoulder_r": "upperarm01.R",
           "elbow_l": "lowerarm01.L", "elbow_r": "lowerarm01.R",
           "wrist_l": "wrist.L", "wrist_r": "wrist.R",
           "hip_l": "upperleg01.L", "hip_r": "upperleg01.R",
           "knee_l": "lowerleg01.L", "knee_r": "lowerleg01.R",
           "ankle_l": "foot.L", "ankle_r": "foot.R"}


@dataclass(frozen=True)
class Phenotype:
    gender: float  # 0 male … 1 female
    height_cm: float
    weight: float = 0.5
    muscle: float = 0.5
    proportions: float = 0.5
    age: float = 0.78  # an adult


@dataclass(frozen=True)
class Body:
    mesh: trimesh.Trimesh  # glTF frame, feet on y=0, facing +Z, centred on the pelvis in x and z
    landmarks: dict
    measurements: dict
    phenotype: dict


@lru_cache(maxsize=1)
def _model():
    import anny  # heavy (torch, warp): imported only when a body is built

    return anny.Anny(topology="anny-noeyes-notongue")


def model_cache() -> Path:
    """anny's cache folder, found as anny.paths finds it (read here: importing anny takes seconds)."""
    return Path(os.getenv("ANNY_CACHE_DIR", str(Path.home() / ".cache" / "anny")))


def ensure_model_cache() -> bool:
    """Build anny's model cache (about 800 MB; 4 minutes on 2 cores) unless it is built, and say
    whether this call built it. Else the first custom avatar on a new machine builds it in its job,
    past the job's time limit; the job stopped there leaves no cache, so every one after it stops
    too. Workers call it as they warm: the first takes a file lock and builds, the others go on
    warming and take garments meanwhile. The model is not kept in memory (a job loads it from the
    cache in seconds)."""
    folder = model_cache()
    marker = folder / f"fitroom-built-{importlib.metadata.version('anny')}"
    if marker.exists():
        return False
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".fitroom-build.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released when the file closes
        except BlockingIOError:  # another worker is building it
            return False
        if marker.exists():  # built while this one opened the lock
            return False
        build_body(Phenotype(gender=1.0, height_cm=165))  # a body, as a job makes it: every cached part built
        _model.cache_clear()
        marker.touch()
    return True


def _forward(pheno: Phenotype, height: float) -> tuple[np.ndarray, np.ndarray]:
    import torch

    kwargs = dict(gender=pheno.gender, age=pheno.age, muscle=pheno.muscle, weight=pheno.weight,
                  height=height, proportions=pheno.proportions)
    with torch.no_grad():
        out = _model()(phenotype_kwargs=kwargs)
    # The joints of the posed body that `vertices` is (anny poses its rest body, and moves it so
    # the root is at the origin): its rest bone heads are elsewhere, the elbows 10 cm off the arms.
    return out["vertices"][0].double().numpy(), out["bone_poses"][0, :, :3, 3].double().numpy()


def solve_height(pheno: Phenotype, tol_m: float = 0.001) -> float:
    """The anny height parameter giving the wanted stature (monotonic: bisection)."""
    lo, hi = 0.0, 1.0
    target = pheno.height_cm / 100.0
    for _ in range(30):
        mid = (lo + hi) / 2
        v, _ = _forward(pheno, mid)
        h = v[:, 2].max() - v[:, 2].min()
        if abs(h - target) < tol_m:
            return mid
        lo, hi = (mid, hi) if h < target else (lo, mid)
    return (lo + hi) / 2


def build_body(pheno: Phenotype) -> Body:
    height_param = solve_height(pheno)
    verts, heads = _forward(pheno, height_param)
    faces = np.asarray(_model().get_triangular_faces(), dtype=np.int64)
    mesh = trimesh.Trimesh(verts, faces, process=False)
    to_gltf_frame(mesh, up="+z", forward="-y")  # anny: Z up, facing -Y
    rot = np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], float)
    heads = heads @ rot.T
    labels = list(_model().bone_labels)
    pelvis = heads[labels.index("root")]
    shift = np.array([-pelvis[0], -mesh.bounds[0, 1], -pelvis[2]])
    mesh.apply_translation(shift)
    heads = heads + shift
    mesh.visual = trimesh.visual.TextureVisuals(material=trimesh.visual.material.PBRMaterial(
        name="skin", baseColorFactor=SKIN, metallicFactor=0.0, roughnessFactor=0.7))
    joints = {name: heads[labels.index(bone)] for name, bone in _JOINTS.items()}
    landmarks, measurements = measure(mesh, joints)
    phenotype = {**pheno.__dict__, "height_param": round(height_param, 5)}
    return Body(mesh=mesh, landmarks=landmarks, measurements=measurements, phenotype=phenotype)
