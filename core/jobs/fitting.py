"""The fitting kind: one or more stored garments dressed on an avatar's prepared body."""

from __future__ import annotations

import json
from functools import lru_cache, partial

import trimesh

from core.context import Context
from core.db import session_scope
from core.fitting.body import BodyModel
from core.fitting.fit import FitLayer
from core.garment.parse import stored_parse
from core.jobs.extras import Extras, store_extras
from core.jobs.kinds import Done, Job, JobKind
from core.keys import fitting_extras_keys, fitting_keys
from core.models import AvatarPreset, Cloth3D, FittingSession
from core.pipeline import DRESS_STAGES, FittedFiles, dress, fitted_thumbnail


@lru_cache(maxsize=8)
def _body(glb_path: str, landmarks_json: str, measurements_json: str) -> BodyModel:
    mesh = trimesh.load(glb_path, force="mesh")
    return BodyModel(mesh, json.loads(landmarks_json), json.loads(measurements_json)).prepared()


def avatar_body(ctx: Context, avatar: AvatarPreset) -> BodyModel:
    """An avatar's prepared body (~1 s to prepare), kept per process: fits and the warm-up share it."""
    return _body(str(ctx.storage.local_path(avatar.glb_key)), json.dumps(avatar.landmarks),
                 json.dumps(avatar.measurements))


def stored_openings(stats: dict | None) -> int | None:
    """The openings counted when the garment was made (its record's stats); None where it has none
    (the fit counts them)."""
    count = (stats or {}).get("openings")
    return count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else None


def fit_garments(job: Job) -> Done:
    """The job's garments (its layers, inner first) dressed on its avatar, with its parameters."""
    ctx, settings, params = job.ctx, job.ctx.settings, job.row.params
    with session_scope(ctx.engine) as s:
        avatar = s.get(AvatarPreset, job.row.avatar_preset_id)
        garments = [s.get(Cloth3D, gid) for gid in job.row.layers]
    body = avatar_body(ctx, avatar)
    layers = [FitLayer(trimesh.load(ctx.storage.local_path(g.glb_key), force="mesh"), g.category or "top",
                       g.category or "top", stored_parse(g.stats, g.category), stored_openings(g.stats))
              for g in garments]
    files = dress(layers, body, offset_mm=params.get("offset_mm", settings.clearance_mm),
                  ease=params.get("ease", "regular"), tuck_in=params.get("tuck_in", False), on_stage=job.stage)
    keys = fitting_keys(job.id)
    ctx.storage.put_bytes(keys["fitted_glb_key"], files.glb, "model/gltf-binary")
    ctx.storage.put_bytes(keys["fitted_gltf_key"], files.draco_glb, "model/gltf-binary")
    return Done({"metrics": files.metrics, "timings": files.timings, **keys},
                then=partial(add_fit_extras, ctx, job.id, files))


def add_fit_extras(ctx: Context, job_id: str, files: FittedFiles) -> None:
    """A dressed avatar's thumbnail, made once the fitting is done and shown."""
    def make() -> Extras:
        thumb, timings = fitted_thumbnail(files)
        return {"thumb_key": (thumb, "image/png")}, timings, {}

    store_extras(ctx, FittingSession, job_id, fitting_extras_keys(job_id), make)


FITTING = JobKind(FittingSession, DRESS_STAGES, time_limit="fit_timeout_s", gpu=False, work=fit_garments)
